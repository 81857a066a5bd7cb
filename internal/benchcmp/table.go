package main

import (
	"fmt"
	"io"
	"strings"
)

// columns of the table, after setting and case.
var columns = []string{"efsync s", "rsync s", "fpsync s", "floor s",
	"x-vs-rsync", "x-vs-fpsync", "efsync ÷ floor", "efsync peak RSS MiB", "runs"}

// writeTable prints res as a markdown table: a row per benchmark and
// efsync variant ("efsync", "efsync-n8": the row shows the other
// contenders of the same benchmark beside it). Times are medians in
// seconds; x-vs-TOOL is TOOL's median over efsync's (above 1: efsync is
// faster), as benchkit.Race reports; efsync ÷ floor is how many floors
// efsync takes. A missing value is a dash.
func writeTable(w io.Writer, res results) error {
	var b strings.Builder
	b.WriteString("| setting | case | " + strings.Join(columns, " | ") + " |\n")
	b.WriteString("|---|---|" + strings.Repeat("---|", len(columns)) + "\n")
	for _, be := range res {
		setting, cas := settingCase(be.name)
		for _, variant := range be.order {
			if !strings.HasPrefix(variant, "efsync") {
				continue
			}
			label := cas
			if variant != "efsync" {
				label += " (" + strings.Replace(variant, "-n", " -n ", 1) + ")"
			}
			b.WriteString("| " + setting + " | " + label + " | " + strings.Join(row(be, variant), " | ") + " |\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// row returns the cells after setting and case for efsync variant v.
func row(be *bench, v string) []string {
	ours, others := be.medians[v], be.medians
	sec := func(name string) string {
		if m, ok := others[name]; ok {
			return fmt.Sprintf("%.3f", m.seconds)
		}
		return "–"
	}
	ratio := func(num, den string) string {
		n, ok1 := others[num]
		d, ok2 := others[den]
		if !ok1 || !ok2 || d.seconds == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f×", n.seconds/d.seconds)
	}
	rss := "–"
	if ours.rssMiB > 0 {
		rss = fmt.Sprintf("%.1f", ours.rssMiB)
	}
	return []string{sec(v), sec("rsync"), sec("fpsync"), sec("floor"),
		ratio("rsync", v), ratio("fpsync", v), ratio(v, "floor"), rss, fmt.Sprint(ours.runs)}
}
