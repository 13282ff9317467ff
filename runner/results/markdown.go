package results

import (
	"fmt"
	"io"
	"strings"
)

// EncodeMarkdown writes the run's summary as GitHub-flavoured Markdown: the
// title, the table of cells (the terminal table's columns, from the metric
// list), the server cells' table, the cell counts and one line per verdict.
// It is made for a CI job summary (cat summary.md >> $GITHUB_STEP_SUMMARY),
// so it says what the terminal says, and nothing the terminal does not.
func EncodeMarkdown(run *Run, w io.Writer) error {
	fmt.Fprintf(w, "### %s\n\n", mdEscape(Title(run)))
	all := make([]*Cell, len(run.Cells))
	for i := range run.Cells {
		all[i] = &run.Cells[i]
	}
	writeMarkdownTable(w, all, tableColumns(run))
	var server []*Cell
	for _, c := range all {
		if c.Serving != nil && Measured(c.Status) {
			server = append(server, c)
		}
	}
	if len(server) > 0 {
		fmt.Fprint(w, "\nServing (latency from the scheduled arrival):\n\n")
		writeMarkdownTable(w, server, servingTableColumns(run))
	}
	writeMarkdownOps(w, all)
	fmt.Fprintf(w, "\n**cells:** %s\n", mdEscape(CountsLine(run.CountStatuses())))
	lines := VerdictLines(run.Verdicts)
	for _, v := range run.ServingVerdicts {
		lines = append(lines, v.Line())
	}
	if len(lines) > 0 {
		fmt.Fprint(w, "\n**Verdict**\n\n")
	}
	for _, l := range lines {
		fmt.Fprintf(w, "- %s\n", mdEscape(l))
	}
	_, err := fmt.Fprint(w, noiseNote(run))
	return err
}

// writeMarkdownOps lists the profiled cells' operators (profile: true),
// as the terminal's "operators:" lines do.
func writeMarkdownOps(w io.Writer, cells []*Cell) {
	head := "\n**Operators** (one untimed profiled pass per cell)\n\n"
	for _, c := range cells {
		if c.Profile != nil {
			fmt.Fprintf(w, "%s- `%s`: %s\n", head, c.Name, mdEscape(c.Profile.Line()))
			head = ""
		}
	}
}

// writeMarkdownTable is writeColumns as a Markdown table: the cell's name
// left-aligned, the figures right-aligned.
func writeMarkdownTable(w io.Writer, cells []*Cell, cols []Column) {
	head, rule := []string{"cell"}, []string{":---"}
	for _, col := range cols {
		head, rule = append(head, mdEscape(col.Header)), append(rule, "---:")
	}
	fmt.Fprintf(w, "| %s |\n| %s |\n", strings.Join(head, " | "), strings.Join(rule, " | "))
	for _, c := range cells {
		row := []string{"`" + c.Name + "`"}
		for _, col := range cols {
			row = append(row, mdEscape(cellText(c, col)))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

// noiseNote is the terminal's noise line as a Markdown paragraph ("" on
// an undisturbed run).
func noiseNote(run *Run) string {
	if l := noiseLine(run); l != "" {
		return "\n_noise: " + mdEscape(l) + "_\n"
	}
	return ""
}

// mdEscape keeps a table cell one cell: a pipe would split it, and a
// stray * or _ would start emphasis.
var mdEscape = strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "\n", " ").Replace
