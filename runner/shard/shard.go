// Package shard splits an experiment's cells across machines and puts the
// pieces back together: Assign gives each of n shards a disjoint subset of
// the plan's cells balanced by estimated cost, Parse / FromEnv / Resolve say
// which shard this process is (from `--shard i/n` or from a Slurm job array
// or a Kubernetes Indexed Job), Support names the cells a shard must run
// besides its own (the speedup baseline), and Merge combines the shards'
// results into one run, with the machine as a dimension when the shards ran
// on different machines.
//
// Shards are numbered 1..n everywhere in this package (`--shard 1/4` is the
// first of four), whatever the scheduler's own numbering.
//
// Assign, Support and Merge know nothing of configs or strategies: callers
// pass cell costs as numbers and cell identities as names, so they stay pure
// and are tested on their own. Split (plan.go) is the one bridge from an
// expanded config.Plan: its cost estimate (Cost), its baselines and the
// cells' identities.
//
// Note: a shard could instead take every n-th cell of the plan (round
// robin). That is simpler but blind to cost: a sweep whose expensive cells
// are regularly spaced (every fourth cell a processes strategy) puts them
// all in one shard. Cost-balanced assignment (LPT) was chosen instead.
package shard

import (
	"fmt"
	"math"
	"sort"
)

// Assign partitions the cell indices 0..len(costs)-1 into n shards
// (result[k] is shard k+1's cells) so that the shards' total estimated
// costs are balanced. It is deterministic: the same costs and n give the
// same shards on every machine, which is what lets each shard compute its
// own part of the plan independently.
//
// Every index appears in exactly one shard; each shard's indices are in
// ascending order (plan order). With fewer cells than shards, some shards
// are empty. A cost that is negative, NaN or infinite counts as 0 (the cell
// still goes somewhere). Assign panics if n < 1.
//
// The method is LPT (longest processing time first): cells sorted by cost,
// largest first (ties: lower index first), each given to the shard with the
// least total so far (ties: lower shard). Its guarantee (Graham, 1969): the
// largest shard total is at most (4/3 − 1/(3n)) × the best possible
// largest total. The best is not computed; against the lower bound
//
//	L = max(sum/n, largest cost, c[n-1] + c[n])  (costs sorted descending, 0-based)
//
// — the last term because two of the n+1 largest cells must share a shard —
// the largest shard total is at most (3/2 − 1/(2n)) × L. Both are checked
// by the tests over many random inputs.
func Assign(costs []float64, n int) [][]int {
	if n < 1 {
		panic(fmt.Sprintf("shard.Assign: %d shards (want at least 1)", n))
	}
	order := make([]int, len(costs))
	for i := range order {
		order[i] = i
	}
	c := func(i int) float64 { return cleanCost(costs[i]) }
	sort.SliceStable(order, func(a, b int) bool {
		ca, cb := c(order[a]), c(order[b])
		if ca != cb {
			return ca > cb
		}
		return order[a] < order[b]
	})
	shards := make([][]int, n)
	load := make([]float64, n)
	for _, i := range order {
		best := 0
		for k := 1; k < n; k++ {
			if load[k] < load[best] {
				best = k
			}
		}
		shards[best] = append(shards[best], i)
		load[best] += c(i)
	}
	for _, s := range shards {
		sort.Ints(s)
	}
	return shards
}

// Loads returns each shard's total estimated cost under costs, counted as
// Assign counts them.
func Loads(costs []float64, shards [][]int) []float64 {
	out := make([]float64, len(shards))
	for k, s := range shards {
		for _, i := range s {
			out[k] += cleanCost(costs[i])
		}
	}
	return out
}

func cleanCost(c float64) float64 {
	if math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
		return 0
	}
	return c
}

// Support returns the cells a shard must also run although another shard
// owns them: for each cell of own, needs(cell) names the cells it depends on
// (for ortbench, the sequential cell of its workload and batch size, which
// its speedup is computed against). The result is sorted, without
// duplicates, and excludes own's cells.
//
// Accounting: support cells are measured again in every shard that needs
// them, so the speedups in a shard are ratios of numbers measured on the
// same machine in the same run. They are not counted in Assign's balance
// (their cost is usually that of one sequential cell per batch size), their
// results are marked as support copies, and Merge keeps only the owning
// shard's copy.
func Support(own []int, needs func(cell int) []int) []int {
	mine := make(map[int]bool, len(own))
	for _, i := range own {
		mine[i] = true
	}
	seen := map[int]bool{}
	var out []int
	for _, i := range own {
		for _, d := range needs(i) {
			if !mine[d] && !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	sort.Ints(out)
	return out
}
