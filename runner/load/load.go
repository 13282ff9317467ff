// Package load holds the server scenario's load patterns: how requests
// arrive. A pattern is a type with vegeta's Pacer shape — asked, at a time
// since the load began and with the number of requests already sent, how
// long to wait before the next one — and every pattern is one entry in one
// Registry. The config validates load.arrival against the registry and
// runner/serve runs the Pacer the registry makes, so a new pattern is one
// type and one line in Default.
//
// runner/serve does not call Pace while serving: Schedule runs the Pacer
// on a virtual clock before the load starts and the issuer sends each
// request at its precomputed time. The hot loop then holds no call, lock
// or allocation, the schedule is reproducible from its seed, and latency
// counts from the scheduled time (no coordinated omission).
//
// Note: patterns that do not issue requests at their own times — closed
// loop (N clients, each sending when its last request returns) — are not
// Pacers; they belong in the registry as a Pattern with their own kind
// beside New, not as a flag on the engine.
package load

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Pacer paces an open-loop load. Pace returns how long to wait, from
// elapsed since the load began, before sending the next request when hits
// requests have been sent; wait ≤ 0 means send it now; stop ends the load.
// Rate is the pattern's request rate at elapsed, in requests per second.
// A Pacer may keep state between calls (a seeded random stream): it is not
// safe for concurrent use, and hits never decreases between calls.
type Pacer interface {
	Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool)
	Rate(elapsed time.Duration) float64
}

// Spec is one load of a pattern: the load section's values for it.
type Spec struct {
	// Rate is the mean rate in requests per second (a load.qps value, or a
	// step of the SLO search).
	Rate float64
	// Seed seeds a random pattern; the same seed gives the same arrivals.
	Seed uint64
	// Shape is the gamma pattern's shape (load.shape; 1 = Poisson).
	Shape float64
	// Trace is the trace pattern's recording (load.trace).
	Trace *Trace
}

// Pattern describes one load pattern: its config word, a one-line summary
// for help and errors, and the constructor of its Pacer, which refuses a
// spec the pattern cannot run.
type Pattern struct {
	Name    string
	Summary string
	New     func(Spec) (Pacer, error)
}

// Registry maps load.arrival's words to patterns. Built in one place
// (Default) and passed to what runs a load.
type Registry map[string]Pattern

// Default is ortbench's registry: one line per pattern.
func Default() Registry {
	r := Registry{}
	for _, p := range []Pattern{poissonPattern(), constantPattern(), gammaPattern(), tracePattern()} {
		r[p.Name] = p
	}
	return r
}

// Names lists the registered patterns, sorted.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup finds a pattern or says which are valid.
func (r Registry) Lookup(name string) (Pattern, error) {
	p, ok := r[name]
	if !ok {
		return Pattern{}, fmt.Errorf("%q is not a load pattern (valid: %s)", name, strings.Join(r.Names(), ", "))
	}
	return p, nil
}

// Pacer makes the named pattern's Pacer for spec.
func (r Registry) Pacer(name string, spec Spec) (Pacer, error) {
	p, err := r.Lookup(name)
	if err != nil {
		return nil, err
	}
	return p.New(spec)
}

// MaxRequests bounds a schedule: a load the pacer would stretch beyond it
// is refused rather than allocated (8 bytes a request).
const MaxRequests = 100_000_000

// Schedule runs p on a virtual clock and returns the arrival times, from
// the start, of a load whose last arrival is at or after duration and
// which holds at least minRequests requests (LoadGen's two minimums), or
// fewer when p stops.
func Schedule(p Pacer, duration time.Duration, minRequests int) ([]time.Duration, error) {
	var out []time.Duration
	if r := p.Rate(0); r > 0 && !math.IsInf(r, 0) {
		out = make([]time.Duration, 0, min(max(int(r*duration.Seconds())+1, minRequests), MaxRequests))
	}
	var t time.Duration
	for len(out) < minRequests || len(out) == 0 || out[len(out)-1] < duration {
		wait, stop := p.Pace(t, uint64(len(out)))
		if stop {
			break
		}
		if wait > 0 { // the virtual clock sleeps exactly, then sends
			t += wait
		}
		if len(out) == MaxRequests {
			return nil, fmt.Errorf("the load would send more than %d requests", MaxRequests)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the load sends no request")
	}
	return out, nil
}

// checkRate refuses a rate a pattern cannot pace.
func checkRate(s Spec) error {
	if !(s.Rate > 0) || math.IsInf(s.Rate, 0) {
		return fmt.Errorf("rate must be > 0 requests/s, got %g", s.Rate)
	}
	return nil
}
