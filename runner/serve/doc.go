// Package serve is the server scenario: requests arrive on their own,
// seeded schedule (open loop, as MLPerf LoadGen's server scenario, wrk2 and
// vegeta do; the patterns are runner/load's registry) and are served by
// the cell's own strategy, started as for a pass (strategy.RowServer);
// latency runs from each request's SCHEDULED arrival to its completion, so
// a stalled server shows in the latency of every request that arrived
// during the stall instead of delaying their sending (no coordinated
// omission). It also searches each strategy's highest QPS that meets a
// latency SLO (search.go) and names the strategy that serves the most
// (verdict.go).
//
// One engine (engine.go) serves every strategy with a serving side
// (strategy.ServingOf gives how many servers and whether requests are
// batched); the sessions, or worker processes, are the strategy's own.
//
// Note: a Serve method on each strategy was the alternative; it was not
// taken because the strategies differ under load only in their shape, and
// one engine keeps the clock, queue and recorders identical for all of
// them.
package serve
