"""OpenVINO's legacy EP (the onnxruntime-openvino wheel, 1.24.1) against the CPU EP,
from Python: the one route to OpenVINO on a non-Intel CPU, since the plugin EP that
ortbench uses offers devices for Intel hardware only, and the Go binding cannot load
the wheel's ORT 1.24 (docs/BENCHMARKS.md, "OpenVINO EP vs CPU EP").

Says whether OpenVINO takes the whole graph (a session with CPU fallback disabled),
then times both EPs in the same process, rounds interleaved so load hits both alike.

  python3 -m venv /tmp/ov && /tmp/ov/bin/pip install onnxruntime-openvino==1.24.1 numpy
  /tmp/ov/bin/python scripts/openvino-legacy.py MODEL BATCH ROUNDS [key=value,...]

The optional last argument is OpenVINO provider options (num_streams=2,num_of_threads=2)."""
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort


def session(model, providers, strict=False):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.log_severity_level = 3
    if strict:
        so.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    return ort.InferenceSession(model, so, providers=providers)


def main():
    model, batch, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    opts = dict(kv.split("=", 1) for kv in sys.argv[4].split(",")) if len(sys.argv) > 4 else {}
    opts.setdefault("device_type", "CPU")
    name = model.split("/")[-1]
    ov_ep = [("OpenVINOExecutionProvider", opts)]
    try:
        session(model, ov_ep, strict=True)
        whole = "OpenVINO takes the whole graph"
    except Exception as e:  # ORT raises its own Fail type
        msg = str(e)
        if "fallback to CPU EP has been explicitly disabled" in msg:
            whole = "OpenVINO leaves nodes to the CPU EP"
        else:
            whole = "OpenVINO refuses its part: " + msg.strip().splitlines()[-1][:160]
    try:
        cpu, ov = session(model, ["CPUExecutionProvider"]), session(model, ov_ep)
    except Exception as e:
        print(f"{name}: {whole}; no session")
        return
    inp = cpu.get_inputs()[0]
    shape = [d if isinstance(d, int) else batch for d in inp.shape]
    feed = {inp.name: np.random.default_rng(1).random(shape, dtype=np.float32)}
    diff = max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
               for a, b in zip(cpu.run(None, feed), ov.run(None, feed)))
    times = {"cpu": [], "ov": []}
    for s in (cpu, ov, cpu, ov):
        s.run(None, feed)
    for _ in range(rounds):
        for k, s in (("cpu", cpu), ("ov", ov)):
            t = time.perf_counter()
            s.run(None, feed)
            times[k].append(time.perf_counter() - t)
    r = sorted(c / o for c, o in zip(times["cpu"], times["ov"]))
    q = lambda p: r[round(p * (len(r) - 1))]
    c, o = statistics.median(times["cpu"]), statistics.median(times["ov"])
    print(f"{name} batch {batch}, {rounds} rounds, {opts}: {whole}; "
          f"p50 cpu {c * 1e3:.3f} ms, openvino {o * 1e3:.3f} ms; cpu/openvino per round "
          f"p50 {q(.5):.2f}x [p25 {q(.25):.2f}, p75 {q(.75):.2f}]; max |diff| {diff:.1e}")


main()
