package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/ortbench/ortbench/runner/strategy"
)

// TestResolvedReloads: the resolved config decodes strictly into the same
// Config from any directory — absolute paths, lists as lists, durations as
// strings — and hashes the same.
func TestResolvedReloads(t *testing.T) {
	t.Setenv("ORTBENCH_BATCH_SIZES", "1,64")
	t.Setenv("ORTBENCH_MIN_DURATION", "250ms")
	dir := t.TempDir()
	cfg, err := Load(filepath.Join(dir, "x.yaml"), []byte(base+"verify:\n  expected: ref/p.parquet\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(cfg.Resolved, &doc); err != nil {
		t.Fatal(err)
	}
	if bs, ok := doc["batch_sizes"].([]any); !ok || len(bs) != 2 || bs[1] != 64 {
		t.Fatalf("batch_sizes resolved as %#v, want the list [1, 64]", doc["batch_sizes"])
	}
	if doc["min_duration"] != "250ms" || doc["sample_interval"] != "100ms" {
		t.Fatalf("durations resolved as %#v, %#v", doc["min_duration"], doc["sample_interval"])
	}
	wl := doc["workload"].(map[string]any)
	if wl["model"] != filepath.Join(dir, "m.onnx") {
		t.Fatalf("model resolved as %v", wl["model"])
	}
	out := doc["output"].(map[string]any)["dir"].(string)
	if !filepath.IsAbs(out) {
		t.Fatalf("output.dir %q is not absolute", out)
	}
	if !strings.Contains(string(cfg.Resolved), "- strategy: worker-pool\n    workers: [1, 2]\n") {
		t.Fatalf("strategies not as given:\n%s", cfg.Resolved)
	}
	cfg.SetLibrary("/opt/ort/libonnxruntime.so.1")
	if !strings.Contains(string(cfg.Resolved), "library: /opt/ort/libonnxruntime.so.1") {
		t.Fatalf("library not recorded:\n%s", cfg.Resolved)
	}

	// Load it again, from elsewhere and with the variables gone.
	t.Setenv("ORTBENCH_BATCH_SIZES", "")
	t.Setenv("ORTBENCH_MIN_DURATION", "")
	t.Chdir(t.TempDir())
	again, err := Load(filepath.Join(t.TempDir(), "config.resolved.yaml"), cfg.Resolved, nil)
	if err != nil {
		t.Fatalf("resolved config does not load: %v\n%s", err, cfg.Resolved)
	}
	if again.SHA256 != cfg.SHA256 {
		t.Errorf("sha changed on reload: %s vs %s\n%s\n---\n%s", cfg.SHA256, again.SHA256, cfg.Resolved, again.Resolved)
	}
	if again.Abs(again.Workload.Model) != filepath.Join(dir, "m.onnx") || again.Abs(again.Verify.Expected) != filepath.Join(dir, "ref", "p.parquet") {
		t.Errorf("paths do not survive: %q %q", again.Workload.Model, again.Verify.Expected)
	}
	if again.Name != "t" || again.MinDuration.String() != "250ms" || len(again.BatchSizes) != 2 {
		t.Errorf("values do not survive: %+v", again)
	}
	if _, err := Expand(again, strategy.Default(), machine); err != nil {
		t.Fatal(err)
	}
}

func TestSHA256FollowsOverrides(t *testing.T) {
	a, err := Load("x.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Load("x.yaml", []byte(base), nil)
	if a.SHA256 != b.SHA256 || len(a.SHA256) != 64 {
		t.Fatalf("same input, different sha: %s %s", a.SHA256, b.SHA256)
	}
	t.Setenv("ORTBENCH_REPETITIONS", "2")
	c, err := Load("x.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.SHA256 == a.SHA256 {
		t.Fatal("ORTBENCH_REPETITIONS=2 did not change config_sha256")
	}
	// The same settings written in the file hash the same as the override.
	d, _ := Load("x.yaml", []byte(base+"repetitions: 2\n"), nil)
	if d.SHA256 != c.SHA256 {
		t.Fatal("the same configuration from the file and from the environment hash differently")
	}
}

// TestOverrideErrorsNameTheirSource: a bad value from a flag or a variable
// is blamed on it, not on a line of the file.
func TestOverrideErrorsNameTheirSource(t *testing.T) {
	t.Setenv("ORTBENCH_REPETITIONS", "abc")
	t.Setenv("ORTBENCH_BATCH_SIZES", "1,x")
	_, err := Load("x.yaml", []byte(base+"repetitions: 6\n"), nil)
	for _, want := range []string{`$ORTBENCH_REPETITIONS: repetitions: "abc" is not an integer`, "$ORTBENCH_BATCH_SIZES: batch_sizes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "x.yaml") {
		t.Errorf("error blames the file: %v", err)
	}

	t.Setenv("ORTBENCH_REPETITIONS", "0")
	t.Setenv("ORTBENCH_BATCH_SIZES", "")
	_, err = plan(t, base)
	if err == nil || !strings.Contains(err.Error(), "$ORTBENCH_REPETITIONS: repetitions: must be ≥ 1") {
		t.Errorf("validation error %v does not name the variable", err)
	}

	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.Int("rows", 0, "")
	if err := fs.Parse([]string{"--rows=-1"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ORTBENCH_REPETITIONS", "")
	cfg, err := Load("x.yaml", []byte(base), fs)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Expand(cfg, strategy.Default(), machine)
	if err == nil || !strings.Contains(err.Error(), "--rows: workload.rows: must be ≥ 0") {
		t.Errorf("error %v does not name the flag", err)
	}
}

// TestDecodeAndValidationErrorsTogether: Load hands back what it decoded,
// so Expand's findings join the decode errors, and a value that failed to
// decode is not reported twice.
func TestDecodeAndValidationErrorsTogether(t *testing.T) {
	y := strings.Replace(base, "[1, 8]", "[0]", 1) + "repetitons: 3\nwarmup_batches: many\n"
	cfg, err := Load("x.yaml", []byte(y), nil)
	if cfg == nil || err == nil {
		t.Fatalf("want a partial config and errors, got %v, %v", cfg, err)
	}
	_, err2 := Expand(cfg, strategy.Default(), machine)
	all := err.Error() + "\n" + err2.Error()
	for _, want := range []string{"repetitons: unknown key (did you mean repetitions?)", "warmup_batches", "batch_sizes[0]: must be ≥ 1"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}
	if strings.Count(all, "warmup_batches") != 1 {
		t.Errorf("warmup_batches reported more than once:\n%s", all)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("%v is not ErrInvalid", err)
	}
}

func TestUnknownKeySuggestions(t *testing.T) {
	cases := map[string]string{
		base + "batch_size: 4\n":                                                             "batch_size: unknown key (did you mean batch_sizes?)",
		strings.Replace(base, "  model:", "  modle: x\n  model:", 1):                         "workload.modle: unknown key (did you mean model?)",
		strings.Replace(base, "    path: d.parquet", "    path: d.parquet\n    lable: y", 1): "workload.dataset.lable: unknown key (did you mean label?)",
		base + "session:\n  spining: true\n":                                                 "session.spining: unknown key (did you mean spinning?)",
		base + "zzz: 1\n":                                                                    "zzz: unknown key (check the spelling",
	}
	for y, want := range cases {
		_, err := Load("x.yaml", []byte(y), nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
}

func TestValidKeys(t *testing.T) {
	if got := strings.Join(validKeys("workload.dataset"), ","); got != "path,features,tensor_column,label,allow_nan,streaming" {
		t.Errorf("workload.dataset keys: %s", got)
	}
	if validKeys("strategies[0]") != nil || validKeys("nope") != nil {
		t.Error("keys for a block that has none")
	}
	if top := validKeys(""); len(top) < 10 || top[0] != "name" {
		t.Errorf("top-level keys: %v", top)
	}
}

func TestMain(m *testing.M) {
	// No ORTBENCH_* variable from the caller's shell may leak into these tests.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, EnvPrefix+"_") && k != "ORTBENCH_ORT_LIB" {
			os.Unsetenv(k)
		}
	}
	os.Exit(m.Run())
}
