package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// ciWorkflow is the part of docs/CI.md's workflow the test reads.
type ciWorkflow struct {
	Jobs map[string]struct {
		Env   map[string]string `yaml:"env"`
		Steps []struct {
			Name string `yaml:"name"`
			Uses string `yaml:"uses"`
			Run  string `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// tinyCIConfig is a heavy-task experiment that runs in seconds, without a
// model or ONNX Runtime.
const tinyCIConfig = `name: ci-doc
workload:
  kind: heavy-task
  items: 16
  cost: 2000
batch_sizes: [4]
warmup_batches: 2
repetitions: 6
min_duration: 20ms
output:
  formats: [json]
strategies:
  - strategy: sequential
  - strategy: goroutines
    workers: 2
`

// TestCIWorkflowDoc runs the run: steps of docs/CI.md's GitHub Actions
// workflow, as GitHub would (bash -eo pipefail, RUNNER_TEMP and
// GITHUB_STEP_SUMMARY set), on a tiny config with base = this commit: the
// gate must pass (exit 0) and the summary hold the comparison and verdicts.
// Steps that install things are left out; two builds make it slow.
func TestCIWorkflowDoc(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ortbench twice")
	}
	for _, tool := range []string{"git", "go", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	if err := exec.Command("git", "rev-parse", "--verify", "HEAD").Run(); err != nil {
		t.Skip("not a git checkout")
	}
	doc, err := os.ReadFile("docs/CI.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```yaml\n(.*?)\n```\n").FindSubmatch(doc)
	if block == nil {
		t.Fatal("docs/CI.md has no yaml block")
	}
	var wf ciWorkflow
	if err := yaml.Unmarshal(block[1], &wf); err != nil {
		t.Fatalf("docs/CI.md's workflow: %v", err)
	}
	job, ok := wf.Jobs["ortbench"]
	if !ok || len(job.Steps) == 0 {
		t.Fatalf("docs/CI.md's workflow has no ortbench job: %+v", wf)
	}
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "ci-doc.yaml")
	if err := os.WriteFile(cfg, []byte(tinyCIConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	summary := filepath.Join(tmp, "summary.md")
	env := append(os.Environ(), "RUNNER_TEMP="+tmp, "GITHUB_STEP_SUMMARY="+summary)
	for k, v := range job.Env {
		env = append(env, k+"="+v)
	}
	env = append(env, "CONFIG="+cfg, "EXPERIMENT=ci-doc") // after the job's: they win
	t.Cleanup(func() {
		_ = exec.Command("git", "worktree", "remove", "--force", filepath.Join(tmp, "base")).Run()
		_ = exec.Command("git", "worktree", "prune").Run()
	})
	ran := 0
	for _, st := range job.Steps {
		if st.Run == "" || strings.HasPrefix(st.Name, "Install") {
			continue
		}
		script := strings.ReplaceAll(st.Run, "${{ github.event.pull_request.base.sha }}", "HEAD")
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("step %q: %v\n%s", st.Name, err, out.String())
		}
		ran++
	}
	if ran < 3 {
		t.Fatalf("ran %d steps, want build, run and compare", ran)
	}
	got, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ortbench: base vs head", "goroutines/workers=2", "significance:", "- heavy-task cost=2000, batch_size=4: fastest: "} {
		if !strings.Contains(string(got), want) {
			t.Errorf("job summary lacks %q:\n%s", want, got)
		}
	}
}
