package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ortbench/ortbench/runner"
	"github.com/ortbench/ortbench/runner/config"
)

// corpusDir holds the bad-input corpus: datasets, models and results files
// (gen.py writes the binary ones), the tiny configs that point at them, and
// cases.txt, one case a line:
//
//	name | args | exit code | regexp
//
// args are split on spaces after {dir} becomes corpusDir and {tmp} a fresh
// temporary directory. A case that fails must write exactly one line to
// stderr, matching the regexp and naming a file of the corpus; a case that
// succeeds must write nothing to stderr, and the regexp must match stdout.
// No case may panic or take longer than caseTimeout. Adding a case is adding
// a line (and its config or file, if it needs a new one).
const corpusDir = "cmd/ortbench/testdata/corpus"

const caseTimeout = 60 * time.Second

// panicked matches what a panic or a runtime crash prints.
var panicked = regexp.MustCompile(`panic:|panicked|goroutine \d+ \[|fatal error:`)

type corpusCase struct {
	line       int
	name, args string
	exit       int
	re         *regexp.Regexp
}

func readCorpus(t *testing.T) []corpusCase {
	t.Helper()
	path := filepath.Join(corpusDir, "cases.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []corpusCase
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, " | ", 4)
		if len(parts) != 4 {
			t.Fatalf("%s:%d: want name | args | exit | regexp", path, n)
		}
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		exit, err := strconv.Atoi(parts[2])
		if err != nil {
			t.Fatalf("%s:%d: exit code %q: %v", path, n, parts[2], err)
		}
		re, err := regexp.Compile(parts[3])
		if err != nil {
			t.Fatalf("%s:%d: regexp: %v", path, n, err)
		}
		if seen[parts[0]] {
			t.Fatalf("%s:%d: case %q twice", path, n, parts[0])
		}
		seen[parts[0]] = true
		cases = append(cases, corpusCase{line: n, name: parts[0], args: parts[1], exit: exit, re: re})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestCorpus runs every case of cases.txt through the CLI's run function.
func TestCorpus(t *testing.T) {
	cases := readCorpus(t)
	if len(cases) < 120 {
		t.Errorf("the corpus has %d cases, want at least 120", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			args := strings.Fields(strings.NewReplacer("{dir}", corpusDir, "{tmp}", tmp).Replace(c.args))
			for i, a := range args {
				if strings.HasPrefix(a, "{gen:") {
					args[i] = generate(t, tmp, strings.TrimSuffix(strings.TrimPrefix(a, "{gen:"), "}"))
				}
			}
			start := time.Now()
			type result struct {
				code     int
				out, err string
				panic    any
			}
			done := make(chan result, 1)
			go func() {
				var r result
				defer func() {
					if p := recover(); p != nil {
						r.panic = p
					}
					done <- r
				}()
				r.code, r.out, r.err = cli(t, args...)
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(caseTimeout):
				t.Fatalf("cases.txt:%d: still running after %v: %v", c.line, caseTimeout, args)
			}
			took := time.Since(start)
			stats.add(c, took)
			where := fmt.Sprintf("cases.txt:%d: ortbench %s", c.line, strings.Join(args, " "))
			if r.panic != nil {
				t.Fatalf("%s: panicked: %v", where, r.panic)
			}
			for _, s := range []string{r.out, r.err} {
				if panicked.MatchString(s) {
					t.Errorf("%s: output mentions a panic:\n%s", where, s)
				}
			}
			if r.code != c.exit {
				t.Errorf("%s: exit %d, want %d\nstderr: %s", where, r.code, c.exit, r.err)
			}
			if c.exit == 0 {
				if r.err != "" {
					t.Errorf("%s: stderr not empty:\n%s", where, r.err)
				}
				if !c.re.MatchString(r.out) {
					t.Errorf("%s: stdout does not match %q:\n%s", where, c.re, r.out)
				}
				return
			}
			lines := strings.Split(strings.TrimRight(r.err, "\n"), "\n")
			if len(lines) != 1 || lines[0] == "" {
				t.Errorf("%s: %d lines on stderr, want one:\n%s", where, len(lines), r.err)
			}
			if !c.re.MatchString(r.err) {
				t.Errorf("%s: stderr does not match %q:\n%s", where, c.re, r.err)
			}
			// A bad flag or a device names itself, not a file of the corpus.
			named := strings.HasPrefix(c.re.String(), "-") || strings.HasPrefix(c.re.String(), "/dev/")
			if !named && !strings.Contains(r.err, corpusDir) && !strings.Contains(r.err, tmp) {
				t.Errorf("%s: stderr names no file of the corpus:\n%s", where, r.err)
			}
		})
	}
	t.Log(stats.summary())
}

// corpusStats counts the cases by kind (the name's first word) and keeps
// the slowest config validation: docs/RELIABILITY.md quotes them.
type corpusStats struct {
	mu       sync.Mutex
	kinds    map[string]int
	slowest  time.Duration
	slowCase string
}

var stats = &corpusStats{kinds: map[string]int{}}

func (s *corpusStats) add(c corpusCase, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kind, _, _ := strings.Cut(c.name, "_")
	s.kinds[kind]++
	if strings.HasPrefix(c.args, "validate") && took > s.slowest {
		s.slowest, s.slowCase = took, c.name
	}
}

func (s *corpusStats) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	kinds := make([]string, 0, len(s.kinds))
	total := 0
	for k, n := range s.kinds {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		total += n
	}
	sort.Strings(kinds)
	return fmt.Sprintf("corpus: %d cases (%s); slowest validate %s: %v (in-process, this test's build flags)",
		total, strings.Join(kinds, ", "), s.slowCase, s.slowest.Round(time.Millisecond))
}

// generate writes a hostile config too large to commit into dir and
// returns its path. spec is kind:n —
//
//	unknown:N  N unknown top-level keys     nested:N  N unknown keys in session
//	deep:N     a mapping N levels deep      big:N     a file of N bytes
//	wide:N     a strategy entry of N keys   list:N    a workers list of N items
//	fifo:N     a named pipe fifo_N (not a config)
func generate(t *testing.T, dir, spec string) string {
	t.Helper()
	kind, num, _ := strings.Cut(spec, ":")
	n, err := strconv.Atoi(num)
	if err != nil {
		t.Fatalf("{gen:%s}: %v", spec, err)
	}
	const heavy = "workload:\n  kind: heavy-task\n  items: 4\n  cost: 10\nbatch_sizes: [1]\nwarmup_batches: 0\nrepetitions: 1\nmin_duration: 1ms\n"
	var b strings.Builder
	b.WriteString(heavy)
	switch kind {
	case "unknown":
		b.WriteString("strategies:\n  - strategy: sequential\n")
		for i := range n {
			fmt.Fprintf(&b, "unknown_key_%d: %d\n", i, i)
		}
	case "nested":
		b.WriteString("strategies:\n  - strategy: sequential\nsession:\n")
		for i := range n {
			fmt.Fprintf(&b, "  bogus_%d: %d\n", i, i)
		}
	case "deep":
		b.WriteString("strategies:\n  - strategy: sequential\nx: ")
		b.WriteString(strings.Repeat("{a: ", n) + "1" + strings.Repeat("}", n) + "\n")
	case "big":
		b.WriteString("strategies:\n  - strategy: sequential\n")
		line := "# " + strings.Repeat("x", 77) + "\n"
		for b.Len() < n {
			b.WriteString(line)
		}
	case "wide":
		b.WriteString("strategies:\n  - strategy: goroutines\n")
		for i := range n {
			fmt.Fprintf(&b, "    k%d: %d\n", i, i)
		}
	case "fifo": // a named pipe: opening it blocks until a writer comes
		p := filepath.Join(dir, fmt.Sprintf("fifo_%d", n))
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	case "list":
		b.WriteString("strategies:\n  - strategy: goroutines\n    workers: [")
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(i%4 + 1))
		}
		b.WriteString("]\n")
	default:
		t.Fatalf("{gen:%s}: unknown kind", spec)
	}
	p := filepath.Join(dir, strings.ReplaceAll(spec, ":", "_")+".yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExitCodes: what happened decides the code — wrong outputs (3) and a
// cell that failed to run (5) are told apart; both at once is 3.
func TestExitCodes(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{runner.ErrVerification, exitVerification},
		{runner.ErrCellFailed, exitCellFailed},
		{errors.Join(runner.ErrVerification, runner.ErrCellFailed), exitVerification},
		{runner.ErrInterrupted, exitInterrupted},
		{config.Errors{errors.New("x")}, exitInvalid},
		{errors.New("other"), exitError},
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
