"""Build models/transformer.onnx: a small BERT-like encoder for ortbench's zoo.

BERT-base's structure (word + position + token-type embeddings, post-LN
encoder layers with multi-head self-attention and a GELU feed-forward, a tanh
pooler over the first token) at a size two cores can benchmark: 4 layers,
hidden 256, 4 heads, feed-forward 1024, BERT's vocabulary of 30522 and 512
positions. Inputs int64 `input_ids` and `attention_mask`, both
[batch, sequence], symbolic; outputs `last_hidden_state` [batch, sequence,
256] and `pooler_output` [batch, 256].

The weights are random (no training): what ortbench measures is the compute
per call, which depends on the architecture and the shapes, not on the values.
They are drawn as uniform floats with BERT's initialiser spread (std 0.02)
from a seeded numpy Generator through `random()` (integer to float
conversion and IEEE arithmetic only), so the file is byte-identical on every
machine with the pinned numpy and onnx: scripts/zoo.sh checks its SHA-256.

usage: python training/transformer.py OUT.onnx
"""

import math
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20
LAYERS = 4
HIDDEN = 256
HEADS = 4
HEAD_DIM = HIDDEN // HEADS
FFN = 1024
VOCAB = 30522
POSITIONS = 512
OPSET = 17  # LayerNormalization is an ONNX op from 17 on
IR_VERSION = 8  # what opset 17 needs; loadable by every ONNX Runtime ≥ 1.13


class Builder:
    """Collects nodes and initializers; names are unique by construction."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []

    def uniform(self, name, shape, std=0.02, center=0.0):
        # Uniform on [-a, a] has std a/sqrt(3).
        a = std * math.sqrt(3.0)
        x = center + (self.rng.random(shape) * 2.0 - 1.0) * a
        return self.const(name, x.astype(np.float32))

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, out, **attrs):
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def linear(self, x, name, n_in, n_out):
        w = self.uniform(f"{name}.weight", (n_in, n_out))
        b = self.uniform(f"{name}.bias", (n_out,))
        return self.op("Add", [self.op("MatMul", [x, w], f"{name}.matmul"), b], f"{name}.out")

    def layer_norm(self, x, name):
        g = self.uniform(f"{name}.gamma", (HIDDEN,), center=1.0)
        b = self.uniform(f"{name}.beta", (HIDDEN,))
        return self.op("LayerNormalization", [x, g, b], f"{name}.out", axis=-1, epsilon=1e-12)


def embeddings(b):
    """word[input_ids] + position[0:sequence] + token_type[0], normalised."""
    word = b.uniform("embeddings.word", (VOCAB, HIDDEN))
    pos = b.uniform("embeddings.position", (POSITIONS, HIDDEN))
    token_type = b.uniform("embeddings.token_type0", (HIDDEN,))
    words = b.op("Gather", [word, "input_ids"], "embeddings.words", axis=0)
    shape = b.op("Shape", ["input_ids"], "embeddings.ids_shape")
    seq = b.op("Slice", [shape, b.const("c.one_i64", np.array([1], np.int64)),
                         b.const("c.two_i64", np.array([2], np.int64))], "embeddings.seq_len")
    positions = b.op("Slice", [pos, b.const("c.zero_i64", np.array([0], np.int64)), seq,
                               "c.zero_i64"], "embeddings.positions")
    summed = b.op("Add", [b.op("Add", [words, positions], "embeddings.add_pos"), token_type],
                  "embeddings.sum")
    return b.layer_norm(summed, "embeddings.norm")


def mask_bias(b):
    """(1 - attention_mask) × -10000 as [batch, 1, 1, sequence], added to the scores."""
    m = b.op("Cast", ["attention_mask"], "mask.float", to=TensorProto.FLOAT)
    m = b.op("Unsqueeze", [m, b.const("c.axes_1_2", np.array([1, 2], np.int64))], "mask.4d")
    inv = b.op("Sub", [b.const("c.one_f", np.array(1.0, np.float32)), m], "mask.inverted")
    return b.op("Mul", [inv, b.const("c.neg_big", np.array(-10000.0, np.float32))], "mask.bias")


def heads(b, x, name, perm):
    """[batch, seq, hidden] → [batch, heads, seq, head_dim] (perm 0,2,1,3) or its K layout."""
    r = b.op("Reshape", [x, "c.split_heads"], f"{name}.split")
    return b.op("Transpose", [r], f"{name}.heads", perm=perm)


def encoder_layer(b, x, bias, i):
    p = f"layer{i}"
    q = heads(b, b.linear(x, f"{p}.query", HIDDEN, HIDDEN), f"{p}.q", [0, 2, 1, 3])
    k = heads(b, b.linear(x, f"{p}.key", HIDDEN, HIDDEN), f"{p}.k", [0, 2, 3, 1])
    v = heads(b, b.linear(x, f"{p}.value", HIDDEN, HIDDEN), f"{p}.v", [0, 2, 1, 3])
    scores = b.op("Mul", [b.op("MatMul", [q, k], f"{p}.qk"), "c.scale"], f"{p}.scaled")
    probs = b.op("Softmax", [b.op("Add", [scores, bias], f"{p}.masked")], f"{p}.probs", axis=-1)
    ctx = b.op("Transpose", [b.op("MatMul", [probs, v], f"{p}.ctx")], f"{p}.ctx_t", perm=[0, 2, 1, 3])
    ctx = b.op("Reshape", [ctx, "c.merge_heads"], f"{p}.ctx_merged")
    attn = b.linear(ctx, f"{p}.attn_out", HIDDEN, HIDDEN)
    x = b.layer_norm(b.op("Add", [attn, x], f"{p}.attn_residual"), f"{p}.attn_norm")
    h = b.linear(x, f"{p}.ffn_in", HIDDEN, FFN)
    # GELU, exact form, in the node pattern PyTorch exports and ONNX
    # Runtime's GeluFusion matches: (h · (1 + erf(h / √2))) · 0.5.
    erf = b.op("Erf", [b.op("Div", [h, "c.sqrt2"], f"{p}.gelu_scaled")], f"{p}.gelu_erf")
    gate = b.op("Add", [erf, "c.one_f"], f"{p}.gelu_gate")
    g = b.op("Mul", [b.op("Mul", [h, gate], f"{p}.gelu_mul"), "c.half"], f"{p}.gelu")
    out = b.linear(g, f"{p}.ffn_out", FFN, HIDDEN)
    return b.layer_norm(b.op("Add", [out, x], f"{p}.ffn_residual"), f"{p}.ffn_norm")


def build():
    b = Builder(SEED)
    b.const("c.split_heads", np.array([0, 0, HEADS, HEAD_DIM], np.int64))
    b.const("c.merge_heads", np.array([0, 0, HIDDEN], np.int64))
    b.const("c.scale", np.array(1.0 / math.sqrt(HEAD_DIM), np.float32))
    b.const("c.sqrt2", np.array(math.sqrt(2.0), np.float32))
    b.const("c.half", np.array(0.5, np.float32))
    x = embeddings(b)
    bias = mask_bias(b)
    for i in range(LAYERS):
        x = encoder_layer(b, x, bias, i)
    b.op("Identity", [x], "last_hidden_state")
    cls = b.op("Gather", [x, b.const("c.first", np.array(0, np.int64))], "pooler.first_token", axis=1)
    b.op("Tanh", [b.linear(cls, "pooler.dense", HIDDEN, HIDDEN)], "pooler_output")

    seq = ["batch", "sequence"]
    graph = helper.make_graph(
        b.nodes, "transformer_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, seq),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, seq)],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, seq + [HIDDEN]),
         helper.make_tensor_value_info("pooler_output", TensorProto.FLOAT, ["batch", HIDDEN])],
        b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="ortbench training/transformer.py",
                              ir_version=IR_VERSION,
                              doc_string=f"BERT-like encoder, random weights (seed {SEED}): "
                                         f"{LAYERS} layers, hidden {HIDDEN}, {HEADS} heads, "
                                         f"FFN {FFN}, vocab {VOCAB}, {POSITIONS} positions")
    onnx.checker.check_model(model, full_check=True)
    return model


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: python training/transformer.py OUT.onnx")
    model = build()
    with open(argv[1], "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
    params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    print(f"{argv[1]}: {len(model.graph.node)} nodes, {params / 1e6:.1f}M parameters")


if __name__ == "__main__":
    main(sys.argv)
