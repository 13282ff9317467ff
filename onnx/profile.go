package onnx

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Profile summarises an ONNX Runtime profile (the Chrome-trace JSON a
// session writes when Options.ProfilePrefix is set): how the kernels' time
// splits by operator type.
type Profile struct {
	// KernelMicros is the time spent inside operator kernels, summed.
	KernelMicros int64
	// Ops are the operator types, largest share first.
	Ops []OpTime
}

// OpTime is one operator type's share of the kernels' time.
type OpTime struct {
	Op     string
	Micros int64
	Calls  int
	Share  float64 // of KernelMicros
}

// ReadProfile reads a profile file written by ORT.
func ReadProfile(path string) (Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, err
	}
	var events []struct {
		Cat  string `json:"cat"`
		Name string `json:"name"`
		Dur  int64  `json:"dur"`
		Args struct {
			OpName string `json:"op_name"`
		} `json:"args"`
	}
	if err := json.Unmarshal(data, &events); err != nil {
		return Profile{}, fmt.Errorf("%s: not an ONNX Runtime profile: %v", path, err)
	}
	byOp := map[string]*OpTime{}
	var p Profile
	for _, e := range events {
		if e.Cat != "Node" || !strings.HasSuffix(e.Name, "_kernel_time") || e.Args.OpName == "" {
			continue
		}
		o := byOp[e.Args.OpName]
		if o == nil {
			o = &OpTime{Op: e.Args.OpName}
			byOp[e.Args.OpName] = o
		}
		o.Micros += e.Dur
		o.Calls++
		p.KernelMicros += e.Dur
	}
	for _, o := range byOp {
		if p.KernelMicros > 0 {
			o.Share = float64(o.Micros) / float64(p.KernelMicros)
		}
		p.Ops = append(p.Ops, *o)
	}
	sort.Slice(p.Ops, func(i, j int) bool {
		return p.Ops[i].Micros > p.Ops[j].Micros || (p.Ops[i].Micros == p.Ops[j].Micros && p.Ops[i].Op < p.Ops[j].Op)
	})
	return p, nil
}

// Line is the profile in one line: "MatMul 78% (400 calls), Add 9% …".
func (p Profile) Line() string {
	var parts []string
	for i, o := range p.Ops {
		if i == 4 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%% (%d calls)", o.Op, 100*o.Share, o.Calls))
	}
	return strings.Join(parts, ", ")
}
