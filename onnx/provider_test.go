package onnx

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// openVINOTolerance is how far an OpenVINO output may lie from the CPU
// EP's: OpenVINO's CPU plugin fuses and reorders float arithmetic.
const openVINOTolerance = 1e-4

// needOpenVINO returns the plugin `make openvino` installs; without it the
// test skips, except in CI (CI=true), where .ci/run installs it and a
// missing plugin is a failure.
func needOpenVINO(t *testing.T) string {
	t.Helper()
	initT(t)
	lib, err := PluginLibrary(LookupProvider("openvino"), "")
	if err != nil || lib == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no OpenVINO plugin (%s) in CI: .ci/run must run `make openvino`", openVINOPlugin)
		}
		t.Skipf("no OpenVINO plugin at %s (make openvino)", openVINOPlugin)
	}
	return lib
}

func TestProvidersFromTheLibrary(t *testing.T) {
	initT(t)
	if err := ProbeProvider(LookupProvider("cpu"), ""); err != nil {
		t.Fatalf("cpu: %v", err)
	}
	devs, err := Devices()
	if err != nil {
		t.Fatal(err)
	}
	cpu := false
	for _, d := range devs {
		cpu = cpu || d.EP == "CPUExecutionProvider"
	}
	if !cpu {
		t.Fatalf("the library lists no CPU EP device: %+v", devs)
	}
	err = ProbeProvider(LookupProvider("NoSuchExecutionProvider"), "")
	if err == nil || !strings.Contains(err.Error(), "it offers ") || !strings.Contains(err.Error(), "CPUExecutionProvider") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("a missing provider: %v, want one line listing what the library has", err)
	}
	// A file that is no plugin, and one that is not there.
	err = ProbeProvider(LookupProvider("BogusExecutionProvider"), LibraryPath())
	if err == nil || !strings.Contains(err.Error(), "is not an execution-provider plugin") {
		t.Fatalf("libonnxruntime as a plugin: %v", err)
	}
	err = ProbeProvider(LookupProvider("openvino"), filepath.Join(t.TempDir(), "none.so"))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("a missing plugin: %v", err)
	}
}

// TestOpenVINOAgreesWithCPU runs the tree and linear models on OpenVINO's
// plugin EP and on the CPU EP over the same seeded rows: probabilities
// within openVINOTolerance, labels equal wherever the CPU EP's top two
// probabilities are further apart than that. The MLPs are refused at
// session creation, in one line. OpenVINO claims none of the tree and
// linear models' ai.onnx.ml nodes (seen with the legacy wheel), so this
// checks the plugin's session path and ORT's fallback, not OpenVINO's
// arithmetic.
func TestOpenVINOAgreesWithCPU(t *testing.T) {
	lib := needOpenVINO(t)
	if err := RegisterPlugin("OpenVINOExecutionProvider", lib); err != nil {
		t.Fatal(err)
	}
	// The plugin matches Intel's vendor id only. On another vendor's CPU it
	// must load and offer nothing, in the one line naming this CPU (were it
	// to offer a device, CPUVendor would be out of date: a failure); the
	// agreement below then cannot run, even in CI. On an Intel CPU a
	// missing device is a failure.
	p := LookupProvider("openvino")
	err := ProbeProvider(p, "")
	if v := cpuVendor(); v != p.CPUVendor {
		if err == nil {
			t.Fatalf("OpenVINO's plugin offers a device on this %s CPU: the provider's CPUVendor %s is out of date", v, p.CPUVendor)
		}
		if msg := err.Error(); !strings.Contains(msg, "offers no OpenVINOExecutionProvider device") || !strings.Contains(msg, "this CPU is "+v) || strings.Contains(msg, "\n") {
			t.Fatalf("the refusal on a %s CPU is not the one line naming it: %q", v, msg)
		}
		t.Skipf("no OpenVINO device on this %s CPU, as the plugin's vendor check says: %v", v, err)
	}
	if err != nil {
		t.Fatalf("an Intel CPU, yet: %v", err)
	}
	for _, c := range []struct {
		model string
		scale float64
	}{{"logreg_breast_cancer.onnx", 30}, {"rf_digits.onnx", 16}} {
		t.Run(c.model, func(t *testing.T) {
			m, err := Inspect(filepath.Join(models, c.model))
			if err != nil {
				t.Fatal(err)
			}
			width, rows := int(m.Inputs[0].Shape[1]), 64
			rng := rand.New(rand.NewPCG(1, 2))
			in := make([]float32, rows*width)
			for i := range in {
				in[i] = float32(rng.Float64() * c.scale)
			}
			cpu := runOn(t, m, width, DefaultOptions(), in)
			ov := DefaultOptions()
			ov.Provider = "openvino"
			got := runOn(t, m, width, ov, in)
			compareOutputs(t, cpu, got, rows)
		})
	}
	m, err := Inspect(filepath.Join(models, "mlp_small_digits.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	ov := DefaultOptions()
	ov.Provider = "openvino"
	if s, err := NewSession(m, 64, ov); err == nil {
		s.Close()
		t.Log("OpenVINO now accepts mlp_small_digits (it refused it in 1.8.1)")
	} else if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "creating session") {
		t.Fatalf("OpenVINO's refusal is not one line naming the step: %q", err)
	}
}

type outputsCopy struct {
	labels []int64
	probs  []float32
	width  int
}

func runOn(t *testing.T, m *Model, width int, opts Options, in []float32) outputsCopy {
	t.Helper()
	s, err := NewSession(m, width, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.NewWorker(len(in) / width)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Run(in); err != nil {
		t.Fatal(err)
	}
	var out outputsCopy
	for k, o := range s.Outputs() {
		if o.Kind == Int64 {
			out.labels = append([]int64(nil), w.Int64(k)...)
		} else {
			out.probs, out.width = append([]float32(nil), w.Float32(k)...), o.Width
		}
	}
	return out
}

func compareOutputs(t *testing.T, cpu, got outputsCopy, rows int) {
	t.Helper()
	if len(got.probs) != len(cpu.probs) || len(got.labels) != len(cpu.labels) {
		t.Fatalf("output sizes differ: %d/%d probabilities, %d/%d labels", len(got.probs), len(cpu.probs), len(got.labels), len(cpu.labels))
	}
	for i := range cpu.probs {
		if d := math.Abs(float64(got.probs[i] - cpu.probs[i])); d > openVINOTolerance {
			t.Fatalf("probability %d: %g on OpenVINO, %g on CPU (|Δ| %g > %g)", i, got.probs[i], cpu.probs[i], d, openVINOTolerance)
		}
	}
	for r := range rows {
		if got.labels[r] != cpu.labels[r] && margin(cpu.probs[r*cpu.width:(r+1)*cpu.width]) > openVINOTolerance {
			t.Fatalf("row %d: label %d on OpenVINO, %d on CPU", r, got.labels[r], cpu.labels[r])
		}
	}
}

// margin is the gap between the two largest probabilities.
func margin(p []float32) float64 {
	a, b := math.Inf(-1), math.Inf(-1)
	for _, v := range p {
		switch f := float64(v); {
		case f > a:
			a, b = f, a
		case f > b:
			b = f
		}
	}
	return a - b
}
