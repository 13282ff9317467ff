package onnx

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// Options are the session settings that decide a fair comparison. The zero
// value is not the default: use DefaultOptions.
type Options struct {
	// IntraOpThreads sizes the per-session pool that parallelises one operator.
	// 0 lets ORT pick (one per physical core); ortbench resolves and records it.
	IntraOpThreads int
	// InterOpThreads sizes the pool that runs independent graph nodes at once;
	// only used when Parallel is set.
	InterOpThreads int
	// Parallel selects ORT_PARALLEL execution mode (inter-op); otherwise sequential.
	Parallel bool
	// GraphOptimization is one of "disabled", "basic", "extended", "all".
	GraphOptimization string
	// Spinning lets idle pool threads busy-wait (ORT's own default is on). It
	// burns CPU while idle and inflates CPU %, so ortbench defaults it off and
	// records it in every result.
	Spinning bool
	// MemArena and MemPattern are ORT's CPU arena and memory-pattern planner.
	MemArena   bool
	MemPattern bool
	// IntraOpAffinity pins the intra-op pool's threads: ORT's
	// session.intra_op_thread_affinities ("2;3": one 1-based logical
	// processor per pool thread). "" leaves them to the OS.
	IntraOpAffinity string
	// Provider is the execution provider the session asks for first (a
	// word of Providers, or an EP name); "" or "cpu" is the CPU EP alone.
	// ORT hands the nodes it cannot take to the CPU EP.
	Provider string `json:",omitempty"`
	// ProviderOptions are handed to the provider as they are.
	ProviderOptions map[string]string `json:",omitempty"`
	// ProviderLibrary is the provider's plugin library; "" looks where
	// `make` puts it (PluginLibrary).
	ProviderLibrary string `json:",omitempty"`
	// ProfilePrefix, when set, makes the session write ORT's profile (a
	// Chrome-trace JSON, prefix_<time>.json) when it is closed.
	ProfilePrefix string
}

// DefaultOptions are ortbench's defaults: one intra-op thread, sequential
// execution, all graph optimisations, no spinning, arena and pattern on.
func DefaultOptions() Options {
	return Options{IntraOpThreads: 1, InterOpThreads: 1, GraphOptimization: "all", MemArena: true, MemPattern: true}
}

// GraphOptimizationLevels lists the accepted GraphOptimization words.
var GraphOptimizationLevels = []string{"disabled", "basic", "extended", "all"}

func graphLevel(s string) (ort.GraphOptimizationLevel, error) {
	switch s {
	case "disabled":
		return ort.GraphOptimizationLevelDisableAll, nil
	case "basic":
		return ort.GraphOptimizationLevelEnableBasic, nil
	case "extended":
		return ort.GraphOptimizationLevelEnableExtended, nil
	case "all", "":
		return ort.GraphOptimizationLevelEnableAll, nil
	}
	return 0, fmt.Errorf("graph optimization %q: want one of %v", s, GraphOptimizationLevels)
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// sessionOptions builds ORT's options; the caller destroys them.
func (o Options) sessionOptions() (*ort.SessionOptions, error) {
	level, err := graphLevel(o.GraphOptimization)
	if err != nil {
		return nil, err
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	steps := []func() error{
		func() error { return so.SetLogSeverityLevel(sessionLogLevel) },
		func() error { return so.SetIntraOpNumThreads(o.IntraOpThreads) },
		func() error { return so.SetInterOpNumThreads(o.InterOpThreads) },
		func() error { return so.SetGraphOptimizationLevel(level) },
		func() error { return so.SetCpuMemArena(o.MemArena) },
		func() error { return so.SetMemPattern(o.MemPattern) },
		func() error {
			return so.AddSessionConfigEntry("session.intra_op.allow_spinning", boolString(o.Spinning))
		},
		func() error {
			return so.AddSessionConfigEntry("session.inter_op.allow_spinning", boolString(o.Spinning))
		},
		func() error {
			if o.ProfilePrefix == "" {
				return nil
			}
			return so.EnableProfiling(o.ProfilePrefix)
		},
		func() error {
			if o.IntraOpAffinity == "" {
				return nil
			}
			return so.AddSessionConfigEntry("session.intra_op_thread_affinities", o.IntraOpAffinity)
		},
		func() error { return o.appendProvider(so) },
		func() error {
			mode := ort.ExecutionMode(ort.ExecutionModeSequential)
			if o.Parallel {
				mode = ort.ExecutionModeParallel
			}
			return so.SetExecutionMode(mode)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("session options: %w", err)
		}
	}
	return so, nil
}

// sessionLogLevel keeps ORT's own logger quiet: it writes ANSI-coloured lines
// straight to stderr (onnxruntime_go v1.27.0 offers no way to route them), and
// every error it would log also comes back as the status ortbench reports in
// its own one-line message.
//
// Note: routing ORT's log to slog needs CreateEnvWithCustomLogger, which
// onnxruntime_go does not wrap; raising the severity was chosen instead.
const sessionLogLevel = ort.LoggingLevelFatal

// inspectOptions are the options of the throwaway sessions that read a
// model's inputs, outputs and metadata: quiet, one thread, no graph
// optimisation (nothing runs). The caller destroys them.
func inspectOptions() (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	for _, step := range []func() error{
		func() error { return so.SetLogSeverityLevel(sessionLogLevel) },
		func() error { return so.SetIntraOpNumThreads(1) },
		func() error { return so.SetInterOpNumThreads(1) },
		func() error { return so.SetGraphOptimizationLevel(ort.GraphOptimizationLevelDisableAll) },
	} {
		if err := step(); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("session options: %w", err)
		}
	}
	return so, nil
}
