package results

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints the human summary: one line per cell with throughput,
// speedup, latency, CPU, memory and the verification verdict.
func WriteTable(run *Run, w io.Writer) error {
	all := make([]*Cell, len(run.Cells))
	for i := range run.Cells {
		all[i] = &run.Cells[i]
	}
	if err := writeColumns(w, all, tableColumns(run)); err != nil {
		return err
	}
	if err := writeServingTable(run, w); err != nil { // serving.go
		return err
	}
	// Notes are grouped by message so a warning every cell shares prints once.
	var order []string
	cells := map[string][]string{}
	add := func(cell, msg string) {
		if _, ok := cells[msg]; !ok {
			order = append(order, msg)
		}
		cells[msg] = append(cells[msg], cell)
	}
	for i := range run.Cells {
		c := &run.Cells[i]
		if c.Error != "" {
			add(c.Name, c.Error)
		}
		for _, wn := range c.Warnings {
			add(c.Name, wn)
		}
	}
	for _, msg := range order {
		who := cells[msg]
		switch {
		case len(who) == len(run.Cells) && len(who) > 1:
			fmt.Fprintf(w, "  note: every cell: %s\n", msg)
		case len(who) > 3:
			fmt.Fprintf(w, "  note: %d cells (%s, …): %s\n", len(who), who[0], msg)
		default:
			fmt.Fprintf(w, "  note: %s: %s\n", strings.Join(who, ", "), msg)
		}
	}
	for _, n := range run.Warnings {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for i := range run.Cells {
		if p := run.Cells[i].Profile; p != nil {
			fmt.Fprintf(w, "  operators: %s: %s\n", run.Cells[i].Name, p.Line())
		}
	}
	for _, l := range ceilingLines(run) { // compute.go
		fmt.Fprintf(w, "  ceiling: %s\n", l)
	}
	if l := noiseLine(run); l != "" {
		fmt.Fprintf(w, "noise: %s\n", l)
	}
	fmt.Fprintf(w, "cells: %s\n", CountsLine(run.CountStatuses()))
	for _, l := range VerdictLines(run.Verdicts) {
		fmt.Fprintf(w, "verdict: %s\n", l)
	}
	return nil
}

// writeColumns prints one right-aligned line per cell: its name, then
// each column's text (a dash for a cell not measured, unless the column
// prints Always).
func writeColumns(w io.Writer, cells []*Cell, cols []Column) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "cell\t")
	for _, col := range cols {
		fmt.Fprint(tw, col.Header, "\t")
	}
	fmt.Fprintln(tw)
	for _, c := range cells {
		fmt.Fprint(tw, c.Name, "\t")
		for _, col := range cols {
			fmt.Fprint(tw, cellText(c, col), "\t")
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// cellText is a column's text for a cell: a dash for a cell not measured,
// unless the column prints Always.
func cellText(c *Cell, col Column) string {
	if col.Always || Measured(c.Status) {
		return col.Text(c)
	}
	return "-"
}

// noiseLine says how many repetitions other processes disturbed ("" for
// none).
func noiseLine(run *Run) string {
	n := run.Noise
	if n.Disturbed == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d repetitions disturbed (other processes used more than %.2g cores; up to %.1f)", n.Disturbed, n.Repetitions, n.Threshold, n.MaxOtherCores)
}

// Num formats a rate with a k/M suffix.
func Num(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.1f", v)
}

// Dur formats seconds for humans.
func Dur(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", sec)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", sec*1e3)
	case d > 0:
		return fmt.Sprintf("%.1fµs", sec*1e6)
	}
	return "-"
}

// Bytes formats a byte count in binary units.
func Bytes(b uint64) string {
	if b == 0 {
		return "-"
	}
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%dB", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

// Title is the one-line heading printed above the table.
func Title(run *Run) string {
	e := run.Environment
	ort := "no ORT (heavy task)"
	if e.OnnxruntimeVersion != "" {
		ort = fmt.Sprintf("ORT %s, spinning default %v", e.OnnxruntimeVersion, run.Settings.Spinning)
	}
	title := fmt.Sprintf("%s — %s, %s, %s", run.Experiment.Name, e.CPUModel, e.CoreCount(), ort)
	for i := range run.Cells {
		if strings.HasPrefix(run.Cells[i].SpeedupBase, "py-") {
			return title + "; py-* speedups are against py-sequential"
		}
	}
	return title
}
