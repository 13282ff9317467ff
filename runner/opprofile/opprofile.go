// Package opprofile runs one untimed pass of a workload with ONNX
// Runtime's profiler on and turns the profile into what a cell reports:
// time by operator type and provider, and where the nodes ran. Both the
// run (profile: true) and tune (the winner's "why") use it.
package opprofile

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/workload"
)

// Calls is how many inference calls a profiled pass makes: enough for
// every operator to be called many times, few enough to cost little.
const Calls = 64

// Pass opens one session with o and ORT's profiler on (its file named
// prefix…json), makes calls inference calls of batch rows over w's rows,
// closes the session (ORT writes the file then) and reads it. It returns
// the file's path; the caller keeps or removes it.
func Pass(ctx context.Context, w workload.Workload, o onnx.Options, batch, calls int, prefix string) (onnx.Profile, string, error) {
	if !w.UsesORT() {
		return onnx.Profile{}, "", errors.New("the workload runs no ONNX Runtime session")
	}
	if workload.Streams(w) {
		return onnx.Profile{}, "", errors.New("a streamed workload holds no rows to profile")
	}
	o.ProfilePrefix = prefix
	e, err := w.Open(o)
	if err != nil {
		return onnx.Profile{}, "", err
	}
	bs := max(batch, 1)
	x, err := e.NewExecutor(workload.RowCounts(w.Rows(), bs)...)
	if err != nil {
		return onnx.Profile{}, "", errors.Join(err, e.Close())
	}
	out := workload.NewOutputs(w.Layout(), w.Rows(), bs)
	n := workload.Batches(w.Rows(), bs)
	var runErr error
	for i := range calls {
		if ctx.Err() != nil {
			runErr = ctx.Err()
			break
		}
		start, k := workload.Span(i%n, bs, w.Rows())
		if runErr = x.Run(rows(w, start, k), start, out); runErr != nil {
			break
		}
	}
	if err := errors.Join(runErr, x.Close(), e.Close()); err != nil {
		return onnx.Profile{}, "", err
	}
	files, _ := filepath.Glob(prefix + "*.json")
	if len(files) == 0 {
		return onnx.Profile{}, "", fmt.Errorf("ONNX Runtime wrote no %s*.json", prefix)
	}
	prof, err := onnx.ReadProfile(files[len(files)-1])
	return prof, files[len(files)-1], err
}

// rows is the input records of items start..start+k−1.
func rows(w workload.Workload, start, k int) []byte {
	size := w.RecordBytes()
	return w.Data()[start*size : (start+k)*size]
}

// Items is how many rows Pass runs in calls calls of batch rows over rows
// (its last batch may be short): what the graph's FLOPs per item multiply
// to the pass's.
func Items(rows, batch, calls int) int {
	bs := max(batch, 1)
	n := workload.Batches(rows, bs)
	items := 0
	for i := range calls {
		_, k := workload.Span(i%n, bs, rows)
		items += k
	}
	return items
}

// Summary is a profile as a cell reports it: per-operator seconds and
// shares over the pass, and each provider's nodes, time and FLOPs shares.
func Summary(p onnx.Profile, batch int) *results.OpProfile {
	s := &results.OpProfile{Runs: p.Runs, BatchSize: max(batch, 1), KernelSeconds: float64(p.KernelMicros) / 1e6,
		Ops: []results.OpShare{}, Placement: []results.NodePlacement{}}
	for _, o := range p.Ops {
		s.Ops = append(s.Ops, results.OpShare{Op: o.Op, Provider: o.Provider, Calls: o.Calls, Seconds: float64(o.Micros) / 1e6, Share: o.Share})
	}
	nodes := p.Nodes()
	var unknownMicros int64
	for _, e := range p.Placement {
		np := results.NodePlacement{Provider: e.Provider, Nodes: e.Nodes, FLOPs: e.FLOPs, FLOPsUnknownNodes: e.UnknownNodes}
		if nodes > 0 {
			np.NodeShare = float64(e.Nodes) / float64(nodes)
		}
		if p.KernelMicros > 0 {
			np.TimeShare = float64(e.Micros) / float64(p.KernelMicros)
		}
		unknownMicros += e.UnknownMicros
		s.Placement = append(s.Placement, np)
	}
	if p.KernelMicros > 0 {
		s.FLOPsKnownShare = 1 - float64(unknownMicros)/float64(p.KernelMicros)
	}
	flopsShares(s)
	return s
}

// FromGraph gives a provider none of whose nodes the profile could cost
// the FLOPs the other providers leave of graphFLOPs, the graph's count for
// the rows the pass ran: a compiling provider (OpenVINO) runs fused
// subgraphs whose operators the profile does not show. Only one such
// provider can be given the rest, and only a rest above zero; graphFLOPs
// ≤ 0 (unknown) leaves s as it is. A provider with some nodes costed
// (the CPU EP with one uncosted pool) keeps its own count.
func FromGraph(s *results.OpProfile, graphFLOPs int64) {
	if s == nil || graphFLOPs <= 0 {
		return
	}
	at, counted := -1, int64(0)
	for i, p := range s.Placement {
		if p.Nodes > 0 && p.FLOPsUnknownNodes == p.Nodes {
			if at >= 0 {
				return // two providers' shares of the rest cannot be told apart
			}
			at = i
			continue
		}
		counted += p.FLOPs
	}
	if at < 0 || graphFLOPs <= counted {
		return
	}
	s.Placement[at].FLOPs, s.Placement[at].FLOPsFromGraph = graphFLOPs-counted, true
	flopsShares(s)
}

// flopsShares sets each provider's share of the pass's placed FLOPs.
func flopsShares(s *results.OpProfile) {
	s.FLOPs = 0
	for _, p := range s.Placement {
		s.FLOPs += p.FLOPs
	}
	for i := range s.Placement {
		if s.FLOPs > 0 {
			s.Placement[i].FLOPsShare = float64(s.Placement[i].FLOPs) / float64(s.FLOPs)
		}
	}
}

// PlacementWarning is the cell's warning when under half of the work ran
// on the provider asked for (asked: ORT's EP name): ORT hands the nodes a
// provider cannot take to the CPU EP without a word. The work is the
// FLOPs where the asked provider's are known, the kernel time otherwise
// (the warning says which). "" when most ran where asked.
func PlacementWarning(s *results.OpProfile, asked string) string {
	if s == nil || len(s.Placement) == 0 {
		return ""
	}
	on := results.NodePlacement{Provider: asked}
	nodes := 0
	for _, p := range s.Placement {
		nodes += p.Nodes
		if p.Provider == asked {
			on = p
		}
	}
	byFLOPs := s.FLOPs > 0 && on.FLOPsKnown()
	share, what := on.TimeShare, "of the kernel time"
	if byFLOPs {
		share, what = on.FLOPsShare, fmt.Sprintf("of the FLOPs (%.0f%% of the kernel time", 100*on.TimeShare)
		if on.FLOPsFromGraph {
			what += ", FLOPs from the graph's count less the other providers'"
		}
		what += ";"
	} else {
		what += " (FLOPs unknown;"
	}
	if share >= 0.5 {
		return ""
	}
	return fmt.Sprintf("placement: %.0f%% %s %d of %d nodes) ran on %s, the provider asked for; ONNX Runtime ran the rest on %s (profile: true)",
		100*share, what, on.Nodes, nodes, asked, others(s.Placement, asked, byFLOPs))
}

// others names the providers other than asked, with their FLOPs or time
// shares.
func others(ps []results.NodePlacement, asked string, byFLOPs bool) string {
	out := ""
	for _, p := range ps {
		if p.Provider == asked {
			continue
		}
		if out != "" {
			out += ", "
		}
		share := p.TimeShare
		if byFLOPs {
			share = p.FLOPsShare
		}
		out += fmt.Sprintf("%s (%.0f%%)", p.Provider, 100*share)
	}
	return out
}
