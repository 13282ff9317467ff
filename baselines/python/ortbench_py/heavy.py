"""The built-in CPU-heavy task, the twin of Go's workload.HeavyItem.

Each item runs ``cost`` rounds of a 64-bit LCG with an xorshift, seeded by the
item's index. Go's uint64 arithmetic wraps around; Python's ints do not, so
every step is masked with 2**64-1. The result is the same bit pattern, sent to
ortbench as int64.
"""

MASK = (1 << 64) - 1


def heavy_item(seed: int, cost: int) -> int:
    """One item: the final 64-bit state (0 <= result < 2**64)."""
    x = (seed * 0x9E3779B97F4A7C15 + 1) & MASK
    for _ in range(cost):
        x = (x * 6364136223846793005 + 1442695040888963407) & MASK
        x ^= x >> 33
    return x


def to_int64(u: int) -> int:
    """The int64 with u's bit pattern (what Go's int64(uint64) gives)."""
    return u - (1 << 64) if u >= 1 << 63 else u
