package fleet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// Submitted are the jobs a Slurm script (from Slurm) submitted.
type Submitted struct {
	ShardsJob string // the job array's id
	MergeJob  string // the merge job's id
	Output    string // what the script printed
}

// SubmitSlurm runs a script written by Slurm (bash scriptPath) and returns
// the ids of the jobs it submitted. The script runs in the current
// directory, which becomes the jobs' working directory.
func SubmitSlurm(ctx context.Context, scriptPath string) (*Submitted, error) {
	cmd := exec.CommandContext(ctx, "bash", scriptPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	s := &Submitted{Output: out.String()}
	if err != nil {
		return s, fmt.Errorf("submitting %s: %v: %s", scriptPath, err, oneLine(out.String()))
	}
	sc := bufio.NewScanner(strings.NewReader(s.Output))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "ORTBENCH_SHARDS_JOB="); ok {
			s.ShardsJob = v
		}
		if v, ok := strings.CutPrefix(line, "ORTBENCH_MERGE_JOB="); ok {
			s.MergeJob = v
		}
	}
	if s.ShardsJob == "" || s.MergeJob == "" {
		return s, fmt.Errorf("submitting %s: no job ids in its output: %s", scriptPath, oneLine(s.Output))
	}
	return s, nil
}

// JobState is one Slurm job (or array task) as scontrol reports it.
type JobState struct {
	ID       string // "12", or "12_1" for an array task ("12_[1-2]" while pending)
	State    string // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, …
	Reason   string
	ExitCode string // "0:0" = exit status 0, no signal
}

// Done reports whether the job has finished (successfully or not), or can
// never start because a job it depends on failed.
func (j JobState) Done() bool {
	switch j.State {
	case "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT":
		return true
	}
	return j.Reason == "DependencyNeverSatisfied"
}

func (j JobState) String() string {
	s := j.ID + " " + j.State
	if j.Reason != "" && j.Reason != "None" {
		s += " (" + j.Reason + ")"
	}
	if j.ExitCode != "" && j.ExitCode != "0:0" {
		s += " exit " + j.ExitCode
	}
	return s
}

// WaitSlurm polls Slurm every interval until every job of jobs (and every
// task of an array) is done, and returns their final states. It returns an
// error when ctx ends first (with the states last seen) or when Slurm no
// longer knows a job; a job that failed is not an error here — look at
// the states (AllCompleted).
func WaitSlurm(ctx context.Context, interval time.Duration, jobs ...string) ([]JobState, error) {
	var last []JobState
	for {
		states, err := querySlurm(ctx, jobs)
		if err == nil {
			last = states
			done := len(states) > 0
			for _, s := range states {
				done = done && s.Done()
			}
			if done {
				return states, nil
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return last, fmt.Errorf("waiting for Slurm jobs %s: %w (last error: %v)", strings.Join(jobs, ","), ctx.Err(), err)
			}
			return last, fmt.Errorf("waiting for Slurm jobs %s: %w; last seen: %s", strings.Join(jobs, ","), ctx.Err(), describeStates(last))
		case <-time.After(interval):
		}
	}
}

// AllCompleted reports whether every state is COMPLETED with exit 0:0,
// and otherwise names the ones that are not.
func AllCompleted(states []JobState) (bool, string) {
	var bad []string
	for _, s := range states {
		if s.State != "COMPLETED" || (s.ExitCode != "" && s.ExitCode != "0:0") {
			bad = append(bad, s.String())
		}
	}
	return len(bad) == 0, strings.Join(bad, "; ")
}

func describeStates(states []JobState) string {
	if len(states) == 0 {
		return "nothing"
	}
	var parts []string
	for _, s := range states {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, "; ")
}

// querySlurm asks scontrol for each job's (and array task's) state; a job
// scontrol has forgotten (older than MinJobAge) is asked of sacct.
func querySlurm(ctx context.Context, jobs []string) ([]JobState, error) {
	var out []JobState
	for _, id := range jobs {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		b, err := exec.CommandContext(cctx, "scontrol", "-o", "show", "job", id).CombinedOutput()
		cancel()
		if err != nil {
			states, serr := sacctStates(ctx, id)
			if serr != nil {
				return nil, fmt.Errorf("scontrol show job %s: %v: %s (sacct: %v)", id, err, oneLine(string(b)), serr)
			}
			out = append(out, states...)
			continue
		}
		out = append(out, parseScontrol(string(b))...)
	}
	return out, nil
}

// parseScontrol reads `scontrol -o show job` output: one line per job or
// array task, of Key=Value fields.
func parseScontrol(s string) []JobState {
	var out []JobState
	for _, line := range strings.Split(s, "\n") {
		f := map[string]string{}
		for _, kv := range strings.Fields(line) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				if _, seen := f[k]; !seen {
					f[k] = v
				}
			}
		}
		if f["JobId"] == "" {
			continue
		}
		id := f["JobId"]
		if a, t := f["ArrayJobId"], f["ArrayTaskId"]; a != "" && t != "" {
			if strings.ContainsAny(t, "-,") {
				t = "[" + t + "]"
			}
			id = a + "_" + t
		}
		out = append(out, JobState{ID: id, State: f["JobState"], Reason: f["Reason"], ExitCode: f["ExitCode"]})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

func sacctStates(ctx context.Context, id string) ([]JobState, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b, err := exec.CommandContext(cctx, "sacct", "-n", "-X", "-P", "-j", id, "-o", "JobID,State,ExitCode").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, oneLine(string(b)))
	}
	var out []JobState
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 3 {
			continue
		}
		state, _, _ := strings.Cut(f[1], " ") // "CANCELLED by 0"
		out = append(out, JobState{ID: f[0], State: state, ExitCode: f[2]})
	}
	if len(out) == 0 {
		return nil, errors.New("no such job")
	}
	return out, nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
