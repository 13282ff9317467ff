package shard

import (
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
)

// randomCosts draws m costs of one of several shapes: uniform, a few huge
// cells among many small ones, many equal costs (ties), and zeros.
func randomCosts(r *rand.Rand, m int) []float64 {
	c := make([]float64, m)
	shape := r.IntN(4)
	for i := range c {
		switch shape {
		case 0:
			c[i] = r.Float64() * 100
		case 1:
			c[i] = r.Float64()
			if r.IntN(8) == 0 {
				c[i] = 50 + r.Float64()*50
			}
		case 2:
			c[i] = float64(1 + r.IntN(3))
		case 3:
			if r.IntN(3) > 0 {
				c[i] = float64(r.IntN(20))
			}
		}
	}
	return c
}

func TestAssignPartitionDeterministicBalanced(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 3000; trial++ {
		m := r.IntN(200)
		n := 1 + r.IntN(16)
		costs := randomCosts(r, m)
		shards := Assign(costs, n)

		if len(shards) != n {
			t.Fatalf("trial %d: %d shards, want %d", trial, len(shards), n)
		}
		seen := make([]int, m)
		for k, s := range shards {
			if !sort.IntsAreSorted(s) {
				t.Fatalf("trial %d: shard %d not in plan order: %v", trial, k+1, s)
			}
			for _, i := range s {
				if i < 0 || i >= m {
					t.Fatalf("trial %d: index %d out of range", trial, i)
				}
				seen[i]++
			}
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("trial %d (m=%d n=%d): cell %d is in %d shards", trial, m, n, i, c)
			}
		}

		// Determinism: the same input again, and a copy of it, give the same shards.
		again := Assign(append([]float64(nil), costs...), n)
		if !reflect.DeepEqual(shards, again) {
			t.Fatalf("trial %d: not deterministic:\n%v\n%v", trial, shards, again)
		}

		// Balance against the lower bound L (see Assign's doc).
		sorted := append([]float64(nil), costs...)
		sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
		var sum float64
		for _, c := range costs {
			sum += c
		}
		lb := sum / float64(n)
		if m > 0 {
			lb = math.Max(lb, sorted[0])
		}
		if m > n {
			lb = math.Max(lb, sorted[n-1]+sorted[n])
		}
		worst := maxOf(Loads(costs, shards))
		bound := (1.5 - 0.5/float64(n)) * lb
		if worst > bound*(1+1e-12)+1e-12 {
			t.Fatalf("trial %d (m=%d n=%d): largest shard %.4f > (3/2 − 1/2n)·L = %.4f (L=%.4f)", trial, m, n, worst, bound, lb)
		}
	}
}

// TestAssignWithinLPTBoundOfOptimum checks Graham's bound against the true
// optimum, found by brute force on small inputs.
func TestAssignWithinLPTBoundOfOptimum(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 400; trial++ {
		n := 2 + r.IntN(2)
		m := 1 + r.IntN(8)
		costs := randomCosts(r, m)
		opt := optimum(costs, n)
		got := maxOf(Loads(costs, Assign(costs, n)))
		bound := (4.0/3 - 1/(3*float64(n))) * opt
		if got > bound*(1+1e-12)+1e-12 {
			t.Fatalf("costs %v, n=%d: LPT %.4f > (4/3 − 1/3n)·OPT = %.4f", costs, n, got, bound)
		}
	}
	// Graham's tight example: n=2, costs 3,3,2,2,2 → LPT 7, OPT 6.
	if got := maxOf(Loads([]float64{3, 3, 2, 2, 2}, Assign([]float64{3, 3, 2, 2, 2}, 2))); got != 7 {
		t.Errorf("tight example: LPT gives %v, want 7", got)
	}
}

func optimum(costs []float64, n int) float64 {
	best := math.Inf(1)
	load := make([]float64, n)
	var rec func(i int)
	rec = func(i int) {
		if i == len(costs) {
			best = math.Min(best, maxOf(load))
			return
		}
		for k := 0; k < n; k++ {
			load[k] += cleanCost(costs[i])
			if maxOf(load) < best {
				rec(i + 1)
			}
			load[k] -= cleanCost(costs[i])
		}
	}
	rec(0)
	return best
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

func TestAssignEdges(t *testing.T) {
	if got := Assign(nil, 3); !reflect.DeepEqual(got, [][]int{nil, nil, nil}) {
		t.Errorf("no cells: %v", got)
	}
	if got := Assign([]float64{5, 1, 3}, 1); !reflect.DeepEqual(got, [][]int{{0, 1, 2}}) {
		t.Errorf("one shard: %v", got)
	}
	// Fewer cells than shards: the largest first, then by index.
	if got := Assign([]float64{1, 9}, 4); !reflect.DeepEqual(got, [][]int{{1}, {0}, nil, nil}) {
		t.Errorf("2 cells, 4 shards: %v", got)
	}
	// Bad costs count as 0 but the cells are still assigned.
	got := Assign([]float64{math.NaN(), -1, math.Inf(1), 4}, 2)
	if !reflect.DeepEqual(got, [][]int{{3}, {0, 1, 2}}) {
		t.Errorf("bad costs: %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Assign with 0 shards did not panic")
		}
	}()
	Assign([]float64{1}, 0)
}

func TestSupport(t *testing.T) {
	// Cells 0 and 3 are the sequential baselines of batch 64 and 256; cells
	// 1, 2 need 0, cells 4, 5 need 3.
	base := map[int]int{1: 0, 2: 0, 4: 3, 5: 3}
	needs := func(c int) []int {
		if b, ok := base[c]; ok {
			return []int{b}
		}
		return nil
	}
	cases := []struct {
		own, want []int
	}{
		{[]int{0, 1, 2}, nil},
		{[]int{1, 4}, []int{0, 3}},
		{[]int{2, 5, 3}, []int{0}},
		{nil, nil},
	}
	for _, c := range cases {
		if got := Support(c.own, needs); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Support(%v) = %v, want %v", c.own, got, c.want)
		}
	}
}
