package strategy

import (
	"context"
	"fmt"
	"testing"

	"github.com/ortbench/ortbench/onnx"
	"github.com/ortbench/ortbench/runner/workload"
)

// TestEveryServerServesOnItsOwnStart: every strategy with a serving side
// is a RowServer once started as for a pass, and each of its
// Serving().Servers servers serves any rows of the heavy task right.
func TestEveryServerServesOnItsOwnStart(t *testing.T) {
	const items, cost = 40, 300
	w, err := workload.NewHeavy(items, cost)
	if err != nil {
		t.Fatal(err)
	}
	reg := Default()
	for _, name := range reg.Servers() {
		def := reg[name]
		if def.NeedsORT {
			continue
		}
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/workers=%d", name, workers), func(t *testing.T) {
				p := tp{Workers: workers, BatchSize: 1, Start: StartWarm}
				if name == "processes" {
					p.Workers = max(workers, processesMinWorkers)
				}
				cfg := conf(def, p)
				sv, _ := ServingOf(cfg)
				s := def.New()
				rs, ok := s.(RowServer)
				if !ok {
					t.Fatalf("%s serves (Serving) but is no RowServer", name)
				}
				job := &Job{Workload: w, Config: cfg, Options: onnx.DefaultOptions(), Command: testWorkerCommand(), RowCounts: []int{1, 2, 4}}
				if err := s.Start(context.Background(), job); err != nil {
					s.Close()
					t.Fatal(err)
				}
				defer s.Close()
				n := 4
				if name == "processes" {
					n = 1 // its workers serve one batch's rows per call (issue 23: any size)
				}
				for srv := range sv.Servers {
					out := workload.NewOutputs(w.Layout(), w.Rows(), 1)
					first := (srv * 7) % (items - 4)
					if err := rs.ServeRows(srv, first, n, out); err != nil {
						t.Fatalf("server %d: %v", srv, err)
					}
					for i := first; i < first+n; i++ {
						if got, want := out.I64[0][i], int64(workload.HeavyItem(uint64(i), cost)); got != want {
							t.Fatalf("server %d, row %d: %d, want %d", srv, i, got, want)
						}
					}
				}
				if err := rs.ServeRows(sv.Servers, 0, 1, workload.NewOutputs(w.Layout(), w.Rows(), 1)); err == nil {
					t.Errorf("server %d of %d served", sv.Servers, sv.Servers)
				}
			})
		}
	}
}
