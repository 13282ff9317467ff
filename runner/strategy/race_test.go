//go:build race

package strategy

// raceEnabled: built with -race, which allocates on its own (so
// allocation counts mean nothing).
const raceEnabled = true
