package strategy

import (
	"errors"
	"strings"
	"testing"

	"github.com/ortbench/ortbench/onnx"
)

// TestProviderValidation: what can be told without the library is refused
// at validate, each with its key and the fix.
func TestProviderValidation(t *testing.T) {
	for _, c := range []struct {
		provider, options, library string
		want                       string // "" = valid
	}{
		{provider: "cpu"},
		{provider: "openvino", options: "num_streams=2,num_of_threads=2"},
		{provider: "QNNExecutionProvider"},
		{provider: "openvno", want: "provider: unknown provider \"openvno\" (did you mean openvino?"},
		{provider: "gpu", want: "unknown provider \"gpu\""},
		{provider: "cpu", options: "num_streams=2", want: "provider_options: \"num_streams=2\": the cpu provider takes no provider options"},
		{provider: "openvino", options: "num_streams", want: "provider_options: \"num_streams\" is not key=value"},
		{provider: "openvino", library: "plugin.so", want: "provider_library: \"plugin.so\": give an absolute path"},
		{provider: "openvino", library: "/nonexistent/plugin.so", want: "provider_library: provider_library /nonexistent/plugin.so: no such file"},
	} {
		cfg := conf(sequentialDef(), tp{})
		b := cfg.Common()
		b.Provider, b.ProviderOptions, b.ProviderLibrary = c.provider, c.options, c.library
		err := errors.Join(Validate(cfg)...)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: %v, want %q", c, err, c.want)
		}
	}
}

// TestProviderReachesTheSession: the keys become the session's options.
func TestProviderReachesTheSession(t *testing.T) {
	cfg := conf(sequentialDef(), tp{})
	if got := cfg.Common().Provider; got != DefaultProvider {
		t.Fatalf("default provider %q", got)
	}
	b := cfg.Common()
	b.Provider, b.ProviderOptions = "OpenVINO", "num_streams=2"
	job := &Job{Config: cfg, Options: onnx.DefaultOptions()}
	o := job.sessionOptions(1, 1, false)
	if o.Provider != "openvino" || o.ProviderOptions["num_streams"] != "2" {
		t.Fatalf("session options %+v", o)
	}
	if d := Describe(cfg); !strings.Contains(d, "on openvino (num_streams=2)") {
		t.Fatalf("description %q", d)
	}
}
