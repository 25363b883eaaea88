package main

import (
	"strconv"
	"strings"
)

// table is a markdown table: a header, its rows, and how many leading
// columns hold labels (left-aligned in the separator line).
type table struct {
	header []string
	rows   [][]string
	labels int
}

// parseTables finds every GitHub-markdown table in md: a header line, a
// separator line of dashes (":" on the right marks a right-aligned, number
// column), and the rows that follow, up to the first line not starting
// with '|'. Anything else is ignored.
func parseTables(md string) []table {
	lines := strings.Split(md, "\n")
	var out []table
	for i := 0; i+1 < len(lines); i++ {
		head, sep := strings.TrimSpace(lines[i]), strings.TrimSpace(lines[i+1])
		if !strings.HasPrefix(head, "|") || !isSeparator(sep) {
			continue
		}
		t := table{header: splitRow(head)}
		aligns := splitRow(sep)
		if len(aligns) != len(t.header) {
			continue
		}
		for t.labels < len(aligns) && !strings.HasSuffix(aligns[t.labels], ":") {
			t.labels++
		}
		i += 2
		for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
			t.rows = append(t.rows, splitRow(strings.TrimSpace(lines[i])))
		}
		out = append(out, t)
	}
	return out
}

// isSeparator reports whether s is a table's separator line ("| --- | --: |").
func isSeparator(s string) bool {
	if !strings.HasPrefix(s, "|") || !strings.Contains(s, "-") {
		return false
	}
	return strings.Trim(s, "|-: ") == ""
}

// splitRow splits "| a | b \| c |" into its trimmed cells, "\|" being a
// literal '|'.
func splitRow(s string) []string {
	s = strings.TrimPrefix(s, "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '|':
			cur.WriteByte('|')
			i++
		case s[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		cells = append(cells, rest)
	}
	return cells
}

// parseRatio reads a ratio cell as the harness writes it ("1.28x"); ok is
// false for "—", "n/a" and anything else.
func parseRatio(s string) (float64, bool) {
	num, found := strings.CutSuffix(strings.TrimSpace(s), "x")
	if !found {
		return 0, false
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v > 0) || v > 1e6 {
		return 0, false
	}
	return v, true
}

// bar is one ratio of the chart.
type bar struct {
	label string  // the row's labels, joined
	ratio float64 // uringnet / peer
}

// ratios collects, from every table of md that has a column named column,
// the rows whose cell there is a ratio. A row is labelled by its label
// columns joined with " · ".
func ratios(md, column string) []bar {
	var out []bar
	for _, t := range parseTables(md) {
		col := -1
		for i, h := range t.header {
			if h == column {
				col = i
			}
		}
		if col < 0 {
			continue
		}
		for _, r := range t.rows {
			if col >= len(r) {
				continue
			}
			v, ok := parseRatio(r[col])
			if !ok {
				continue
			}
			n := max(1, min(t.labels, len(r), col))
			out = append(out, bar{label: strings.Join(r[:n], " · "), ratio: v})
		}
	}
	return out
}
