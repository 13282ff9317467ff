package shard

import "testing"

func TestParse(t *testing.T) {
	cases := []struct {
		in      string
		i, n    int
		wantErr string
	}{
		{in: "1/1", i: 1, n: 1},
		{in: "2/4", i: 2, n: 4},
		{in: " 4 / 4 ", i: 4, n: 4},
		{in: "5/4", wantErr: "--shard 5/4: index must be 1..4"},
		{in: "0/4", wantErr: "--shard 0/4: index must be 1..4 (shards are numbered from 1)"},
		{in: "-1/4", wantErr: "--shard -1/4: index must be 1..4"},
		{in: "1/0", wantErr: "--shard 1/0: shard count must be at least 1"},
		{in: "2", wantErr: `--shard 2: want i/n (shard i of n, 1-based, e.g. 1/4) or "auto"`},
		{in: "a/4", wantErr: `--shard a/4: index "a" is not a whole number`},
		{in: "1/x", wantErr: `--shard 1/x: shard count "x" is not a whole number`},
	}
	for _, c := range cases {
		i, n, err := Parse(c.in)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("Parse(%q): error %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || i != c.i || n != c.n {
			t.Errorf("Parse(%q) = %d, %d, %v; want %d, %d", c.in, i, n, err, c.i, c.n)
		}
	}
}

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestFromEnv(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		i, n    int
		ok      bool
		wantErr string
	}{
		{name: "nothing", env: nil},
		{name: "slurm 1-based array", env: map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "2", "SLURM_ARRAY_TASK_STEP": "1"}, i: 2, n: 2, ok: true},
		{name: "slurm 0-based array", env: map[string]string{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3"}, i: 1, n: 4, ok: true},
		{name: "slurm array from 10", env: map[string]string{"SLURM_ARRAY_TASK_ID": "12", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "10"}, i: 3, n: 3, ok: true},
		{name: "slurm without min", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"}, i: 2, n: 2, ok: true},
		{name: "slurm without count", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, wantErr: "shard from environment: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not"},
		{name: "slurm step", env: map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_STEP": "2"}, wantErr: "shard from environment: SLURM_ARRAY_TASK_STEP=2: the job array must have step 1 (e.g. --array=1-4)"},
		{name: "slurm list", env: map[string]string{"SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "8"}, wantErr: "shard from environment: job array 1-8 has 3 tasks, not 8: it must be contiguous (e.g. --array=1-3)"},
		{name: "slurm garbage", env: map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"}, wantErr: `shard from environment: SLURM_ARRAY_TASK_ID="x" is not a whole number`},
		{name: "k8s", env: map[string]string{"JOB_COMPLETION_INDEX": "0", "ORTBENCH_SHARDS": "3"}, i: 1, n: 3, ok: true},
		{name: "k8s last", env: map[string]string{"JOB_COMPLETION_INDEX": "2", "ORTBENCH_SHARDS": "3"}, i: 3, n: 3, ok: true},
		{name: "k8s without count", env: map[string]string{"JOB_COMPLETION_INDEX": "0"}, wantErr: "shard from environment: JOB_COMPLETION_INDEX is set but ORTBENCH_SHARDS (the Job's completions) is not"},
		{name: "k8s out of range", env: map[string]string{"JOB_COMPLETION_INDEX": "3", "ORTBENCH_SHARDS": "3"}, wantErr: "shard from environment: JOB_COMPLETION_INDEX=3 is not an index 0..2 (ORTBENCH_SHARDS=3)"},
		{name: "slurm wins over k8s", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "1", "JOB_COMPLETION_INDEX": "0", "ORTBENCH_SHARDS": "5"}, i: 1, n: 2, ok: true},
		{name: "count alone is nothing", env: map[string]string{"ORTBENCH_SHARDS": "3"}},
	}
	for _, c := range cases {
		i, n, ok, err := FromEnv(env(c.env))
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || i != c.i || n != c.n || ok != c.ok {
			t.Errorf("%s: got %d/%d ok=%v err=%v, want %d/%d ok=%v", c.name, i, n, ok, err, c.i, c.n, c.ok)
		}
	}
}

func TestResolve(t *testing.T) {
	if _, _, ok, err := Resolve("", env(nil)); ok || err != nil {
		t.Errorf("empty flag: ok=%v err=%v", ok, err)
	}
	if i, n, ok, err := Resolve("3/5", env(nil)); !ok || err != nil || i != 3 || n != 5 {
		t.Errorf("3/5: %d/%d ok=%v err=%v", i, n, ok, err)
	}
	if i, n, ok, err := Resolve("auto", env(map[string]string{"JOB_COMPLETION_INDEX": "1", "ORTBENCH_SHARDS": "2"})); !ok || err != nil || i != 2 || n != 2 {
		t.Errorf("auto (k8s): %d/%d ok=%v err=%v", i, n, ok, err)
	}
	_, _, _, err := Resolve("auto", env(nil))
	want := "--shard auto: no shard in the environment (SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT from a Slurm job array, or JOB_COMPLETION_INDEX with ORTBENCH_SHARDS)"
	if err == nil || err.Error() != want {
		t.Errorf("auto without environment: %v", err)
	}
	if _, _, _, err := Resolve("auto", env(map[string]string{"JOB_COMPLETION_INDEX": "0"})); err == nil {
		t.Error("auto with a half environment: no error")
	}
	if _, _, _, err := Resolve("9/2", env(nil)); err == nil || err.Error() != "--shard 9/2: index must be 1..2" {
		t.Errorf("9/2: %v", err)
	}
}
