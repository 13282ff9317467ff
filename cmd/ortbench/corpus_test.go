package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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
	if len(cases) < 50 {
		t.Errorf("the corpus has %d cases, want at least 50", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			args := strings.Fields(strings.NewReplacer("{dir}", corpusDir, "{tmp}", tmp).Replace(c.args))
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
			if !strings.Contains(r.err, corpusDir) {
				t.Errorf("%s: stderr names no file of the corpus:\n%s", where, r.err)
			}
		})
	}
}
