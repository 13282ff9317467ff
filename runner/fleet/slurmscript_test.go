package fleet

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestSlurmScript(t *testing.T) {
	script, err := Slurm(SlurmOptions{
		Config:    "/shared/configs/go-vs-ort-threads.yaml",
		Shards:    4,
		Results:   "/shared/results/it's here",
		Partition: "cpu",
		Time:      "02:00:00",
		Sbatch:    []string{"--constraint=avx512"},
		Binary:    "/opt/ortbench/bin/ortbench",
		RunArgs:   []string{"--repetitions", "3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(script)
	for _, want := range []string{
		"--array=1-4 ",
		"--exclusive ",
		"--partition=cpu ",
		"--time=02:00:00 ",
		"--constraint=avx512 ",
		`--dependency=afterok:"$shards_job"`,
		`results='/shared/results/it'\''s here'`,
		`export ORTBENCH_SHARD="$SLURM_ARRAY_TASK_ID/4"`,
		`exec /opt/ortbench/bin/ortbench run -c /shared/configs/go-vs-ort-threads.yaml --repetitions 3 --shard "$ORTBENCH_SHARD" --out "$ORTBENCH_SHARD_DIR"`,
		`exec /opt/ortbench/bin/ortbench merge "$ORTBENCH_RESULTS"/shards/{1..4} --out "$ORTBENCH_RESULTS/merged"`,
		"echo \"ORTBENCH_SHARDS_JOB=$shards_job\"",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	// The merge job must not hold a node exclusively, nor be an array.
	merge := s[strings.Index(s, "merge_job=$(sbatch"):]
	if strings.Contains(merge, "--exclusive") || strings.Contains(merge, "--array") {
		t.Errorf("merge job is exclusive or an array:\n%s", merge)
	}
	bashSyntax(t, script)
}

// TestSlurmScriptRuns runs the script against fake sbatch commands that
// record their arguments and the job script on stdin: the array comes first,
// the merge depends on the array's id.
func TestSlurmScriptRuns(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	fake := `#!/usr/bin/env bash
n=$(( $(cat "$FAKE_DIR/count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$FAKE_DIR/count"
echo "$*" > "$FAKE_DIR/args.$n"
cat > "$FAKE_DIR/script.$n"
echo "$((100 + n));cluster"
`
	if err := os.WriteFile(filepath.Join(bin, "sbatch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	script, err := Slurm(SlurmOptions{Config: "c.yaml", Shards: 2, Results: filepath.Join(dir, "r")})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "submit.sh")
	if err := os.WriteFile(path, script, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", path)
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(string(out), "ORTBENCH_SHARDS_JOB=101\n") || !strings.Contains(string(out), "ORTBENCH_MERGE_JOB=102\n") {
		t.Errorf("output: %s", out)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if a := read("args.1"); !strings.Contains(a, "--array=1-2") || !strings.Contains(a, "--exclusive") {
		t.Errorf("first sbatch: %s", a)
	}
	if a := read("args.2"); !strings.Contains(a, "--dependency=afterok:101 ") {
		t.Errorf("second sbatch (the ;cluster suffix must be cut): %s", a)
	}
	if s := read("script.1"); !strings.HasPrefix(s, "#!/usr/bin/env bash\n") || !strings.Contains(s, "ortbench run -c c.yaml") {
		t.Errorf("array job script:\n%s", s)
	}
	if s := read("script.2"); !strings.Contains(s, "ortbench merge") {
		t.Errorf("merge job script:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "r", "logs")); err != nil {
		t.Errorf("logs folder not made: %v", err)
	}
}

func TestSlurmOptionErrors(t *testing.T) {
	cases := []struct {
		opts SlurmOptions
		want string
	}{
		{SlurmOptions{Config: "c.yaml", Results: "r"}, "fleet slurm: --shards 0: want at least 1"},
		{SlurmOptions{Shards: 2, Results: "r"}, "fleet slurm: no config file given"},
		{SlurmOptions{Shards: 2, Config: "c.yaml"}, "fleet slurm: no results directory given"},
		{SlurmOptions{Shards: 2, Config: "c\n.yaml", Results: "r"}, `fleet slurm: config "c\n.yaml": contains a line break`},
		{SlurmOptions{Shards: 2, Results: "r", Command: "echo\nORTBENCH_SHARD_SCRIPT\n"}, `fleet slurm: command: a line "ORTBENCH_SHARD_SCRIPT" would end the embedded job script`},
	}
	for _, c := range cases {
		_, err := Slurm(c.opts)
		if err == nil || err.Error() != c.want {
			t.Errorf("%+v: error %v, want %q", c.opts, err, c.want)
		}
	}
}

func TestParseScontrol(t *testing.T) {
	out := `JobId=12 ArrayJobId=12 ArrayTaskId=2 JobName=x JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0
JobId=13 ArrayJobId=12 ArrayTaskId=1 JobName=x JobState=COMPLETED Reason=None ExitCode=0:0
JobId=14 JobName=m JobState=PENDING Reason=DependencyNeverSatisfied ExitCode=0:0
JobId=15 ArrayJobId=15 ArrayTaskId=1-4 JobState=PENDING Reason=Resources ExitCode=0:0
`
	got := parseScontrol(out)
	want := []JobState{
		{ID: "12_1", State: "COMPLETED", Reason: "None", ExitCode: "0:0"},
		{ID: "12_2", State: "FAILED", Reason: "NonZeroExitCode", ExitCode: "3:0"},
		{ID: "14", State: "PENDING", Reason: "DependencyNeverSatisfied", ExitCode: "0:0"},
		{ID: "15_[1-4]", State: "PENDING", Reason: "Resources", ExitCode: "0:0"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	done := []bool{true, true, true, false}
	for i, s := range got {
		if s.Done() != done[i] {
			t.Errorf("%s: Done() = %v", s, s.Done())
		}
	}
	if ok, bad := AllCompleted(got[:2]); ok || bad != "12_2 FAILED (NonZeroExitCode) exit 3:0" {
		t.Errorf("AllCompleted: %v %q", ok, bad)
	}
}

// bashSyntax checks a script parses (bash -n).
func bashSyntax(t *testing.T, script []byte) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		return
	}
	cmd := exec.Command("bash", "-n")
	cmd.Stdin = strings.NewReader(string(script))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("bash -n: %v: %s\n%s", err, out, script)
	}
}
