package harness

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// NA is what a table shows for a value that could not be measured.
const NA = "n/a"

// Table is a markdown table. Cells are plain strings; Markdown pads the columns so the
// table also reads well as plain text.
type Table struct {
	Header []string
	Rows   [][]string
	// Labels is how many leading columns hold labels and are left-aligned; the rest hold
	// numbers and are right-aligned. Below 1 it counts as 1.
	Labels int
}

// AddRow appends a row. Missing cells are shown empty, extra cells are dropped.
func (t *Table) AddRow(cells ...string) {
	t.Rows = append(t.Rows, cells)
}

// Markdown renders the table in GitHub markdown, label columns left-aligned and number
// columns right-aligned. '|' inside a cell is escaped.
func (t *Table) Markdown() string {
	n := len(t.Header)
	labels := max(t.Labels, 1)
	width := make([]int, n)
	cell := func(row []string, i int) string {
		if i < len(row) {
			return strings.ReplaceAll(row[i], "|", `\|`)
		}
		return ""
	}
	for i := range n {
		width[i] = max(3, utf8.RuneCountInString(cell(t.Header, i)))
		for _, r := range t.Rows {
			width[i] = max(width[i], utf8.RuneCountInString(cell(r, i)))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		b.WriteString("|")
		for i := range n {
			c := cell(row, i)
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			b.WriteString(" ")
			if i < labels {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
			b.WriteString(" |")
		}
		b.WriteString("\n")
	}
	line(t.Header)
	b.WriteString("|")
	for i := range n {
		if i < labels {
			b.WriteString(" " + strings.Repeat("-", width[i]) + " |")
		} else {
			b.WriteString(" " + strings.Repeat("-", width[i]-1) + ": |")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		line(r)
	}
	return b.String()
}

// Num formats x with prec digits after the point, or NA when x is NaN or infinite.
func Num(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return NA
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// Ratio formats a/b as "1.23x", or NA when either is not a positive number.
func Ratio(a, b float64) string {
	if !(a > 0) || !(b > 0) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return NA
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "x"
}
