package runner

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ortbench/ortbench/runner/config"
	"github.com/ortbench/ortbench/runner/metrics"
	"github.com/ortbench/ortbench/runner/results"
	"github.com/ortbench/ortbench/runner/workload"
)

// Scheduling. Under the interleaved schedule (the default) every cell is
// started first — start-up and warm-up timed and run as before — and the
// run then proceeds in rounds: each round measures one repetition of every
// cell, in an order shuffled by a seeded generator. Slow drift of the
// machine then lands on every strategy alike, and a cell and its baseline
// are measured moments apart in every round, so their ratio is paired.
// Memory is sampled during each cell's own repetitions only.
//
// Note: keeping every cell's sessions open at once was chosen over
// starting cells anew each round: restarting would add start-up and
// warm-up to every round (seconds for Python runners and worker processes)
// and re-run the caches' cold phase each time. The cost is memory: when
// the plan's estimated footprint (config.EstimateMemory, summed) does not
// fit in half the available memory, the run falls back to the sequential
// schedule and says so in results.json's schedule.reason.

// runState is what a schedule hands back to Run.
type runState struct {
	cells       []*cellRun
	rounds      int
	interrupted bool
}

// chooseSchedule decides the schedule: the config's, unless interleaving
// would not fit in memory.
func (r *Runner) chooseSchedule(w workload.Workload) (kind, reason string) {
	c := r.Plan.Config
	if c.Schedule == config.ScheduleSequential || len(r.Plan.Cells) < 2 {
		return config.ScheduleSequential, ""
	}
	avail := config.AvailableMemory()
	if r.Available != nil {
		avail = r.Available()
	}
	if avail == 0 {
		return config.ScheduleInterleaved, ""
	}
	f := Footprint(c, w)
	// Each estimate counts the runner process and the data once; the cells
	// share those.
	shared := uint64(64<<20) + 2*uint64(f.DataBytes)
	var need uint64
	for i, cell := range r.Plan.Cells {
		e := config.EstimateMemory(cell, f)
		if i > 0 && e > shared {
			e -= shared
		}
		need += e
	}
	if need > avail/2 {
		return config.ScheduleSequential, fmt.Sprintf("every cell started at once would need about %d MiB, more than half of the %d MiB available: cells ran one after another", need>>20, avail>>20)
	}
	return config.ScheduleInterleaved, ""
}

// seed is the config's seed, or one drawn now.
func (r *Runner) seed() int64 {
	if s := r.Plan.Config.Seed; s != 0 {
		return s
	}
	return time.Now().UnixNano()&(1<<53-1) | 1
}

// roundOrder is round's order of the n cells: a permutation drawn from the
// run's generator, so a seed replays every round.
func roundOrder(rng *rand.Rand, n int) []int { return rng.Perm(n) }

// converged reports whether every live cell's interval is within the
// target (always true without a target).
func (r *Runner) converged(cells []*cellRun) bool {
	t := r.Plan.Config.TargetInterval
	if t <= 0 {
		return true
	}
	for _, cr := range cells {
		if !cr.done && cr.acc != nil && cr.acc.halfWidth() > t {
			return false
		}
	}
	return true
}

// more reports whether another round is due: fewer than the configured
// repetitions so far, or a target not met yet while time is left.
func (r *Runner) more(rounds int, started time.Time, cells []*cellRun) bool {
	c := r.Plan.Config
	if rounds < c.Repetitions {
		return true
	}
	return c.TargetInterval > 0 && time.Since(started) < c.MaxDuration && !r.converged(cells)
}

// rounds (the interleaved schedule) starts every cell, then measures
// rounds until done; the run is published after every round with the
// cells' current figures.
func (rj *runJob) rounds(rng *rand.Rand) (*runState, error) {
	r, ctx, w, obs, write := rj.r, rj.ctx, rj.w, rj.obs, rj.publish
	st := &runState{}
	n := len(r.Plan.Cells)
	for i, cell := range r.Plan.Cells {
		if ctx.Err() != nil {
			cr := &cellRun{idx: i, cell: cell, rc: r.baseCell(cell, w), done: true}
			cr.rc.Status, cr.rc.Error = results.StatusSkipped, "interrupted before it started"
			st.cells = append(st.cells, cr)
			continue
		}
		obs.CellStarted(i, n, cell.Name, r.Plan.Config.Repetitions)
		st.cells = append(st.cells, rj.startCell(i, cell))
	}
	// The caller finishes (and closes) every cell; on an error, close them here.
	var err error
	defer func() {
		if err != nil {
			for _, cr := range st.cells {
				cr.close()
			}
		}
	}()
	// The ceiling's bursts (ceiling.go) take places n… of the round order.
	cr := rj.openCeiling()
	defer cr.close()
	var bursts []int
	if cr != nil {
		bursts = cr.threads
	}
	started := time.Now()
	for r.more(st.rounds, started, st.cells) && ctx.Err() == nil {
		st.rounds++
		t0 := time.Now()
		var walls []float64
		for _, i := range roundOrder(rng, n+len(bursts)) {
			if ctx.Err() != nil {
				break
			}
			if i >= n {
				cr.run(ctx, rj, st.rounds, bursts[i-n])
				continue
			}
			t, live := time.Now(), !st.cells[i].done
			r.measure(ctx, st.cells[i], st.rounds, obs)
			if live {
				walls = append(walls, time.Since(t).Seconds())
			}
		}
		if cr != nil {
			cr.roundDone(time.Since(t0), walls)
		}
		obs.RoundDone(st.rounds, time.Since(t0))
		r.tellRounds(obs, st, started)
		if err = write(st); err != nil {
			return st, err
		}
	}
	st.interrupted = ctx.Err() != nil
	return st, nil
}

// inTurn (the sequential schedule) runs cell after cell, each to its end;
// the run is published after every cell.
func (rj *runJob) inTurn() (*runState, error) {
	r, ctx, w, ver, obs, write := rj.r, rj.ctx, rj.w, rj.ver, rj.obs, rj.publish
	st := &runState{}
	n := len(r.Plan.Cells)
	c := r.Plan.Config
	for i, cell := range r.Plan.Cells {
		var cr *cellRun
		if ctx.Err() != nil {
			cr = &cellRun{idx: i, cell: cell, rc: r.baseCell(cell, w), done: true}
			cr.rc.Status, cr.rc.Error = results.StatusSkipped, "interrupted before it started"
		} else {
			obs.CellStarted(i, n, cell.Name, c.Repetitions)
			cr = rj.startCell(i, cell)
			started := time.Now()
			// Each cell gets an equal share of max_duration to converge.
			budget := c.MaxDuration / time.Duration(n)
			for rounds := 0; !cr.done && ctx.Err() == nil; {
				if rounds >= c.Repetitions && (c.TargetInterval <= 0 || time.Since(started) >= budget || r.converged([]*cellRun{cr})) {
					break
				}
				rounds++
				r.measure(ctx, cr, rounds, obs)
				st.rounds = max(st.rounds, rounds)
			}
			r.cut(ctx, cr)
			cr.rc = r.finish(cr, ver, true)
			r.profileCell(ctx, cr, w) // opprofile.go
		}
		st.cells = append(st.cells, cr)
		obs.CellDone(i, &cr.rc)
		if err := write(st); err != nil {
			return st, err
		}
	}
	st.interrupted = ctx.Err() != nil
	return st, nil
}

// busyBefore measures, over a short window before the run, how many cores
// other processes keep busy: the "expect noisy numbers" warning.
func busyBefore(window time.Duration) float64 {
	mark := metrics.MarkNoise()
	cpu0 := metrics.SelfCPU()
	time.Sleep(window)
	n := mark.Since(metrics.SelfCPU().Sub(cpu0))
	return n.OtherCores + n.StealCores
}
