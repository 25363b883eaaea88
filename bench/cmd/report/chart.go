package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// group is one comparison's bars in the chart, under a title.
type group struct {
	title string // "Echo: uringnet msgs/s ÷ net"
	bars  []bar
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 820
	labelWidth  = 330 // left column: the row labels
	barLeft     = labelWidth + 10
	barMax      = chartWidth - barLeft - 70 // room for the value on the right
	rowHeight   = 22
	groupHeight = 34
	topMargin   = 56
)

// chartSVG draws the groups as horizontal bars of ratios, with a line at
// 1.0 (parity): green bars where uringnet is faster, orange where it is
// slower. It is plain SVG 1.1, readable in a browser and on GitHub.
func chartSVG(title, subtitle string, groups []group) string {
	top := 1.0
	rows := 0
	for _, g := range groups {
		for _, b := range g.bars {
			top = max(top, b.ratio)
		}
		rows += len(g.bars)
	}
	scale := niceTop(top * 1.05)
	x := func(v float64) float64 { return barLeft + float64(barMax)*v/scale }
	height := topMargin + len(groups)*groupHeight + rows*rowHeight + 40

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="16" font-weight="bold">%s</text>`+"\n", esc(title))
	fmt.Fprintf(&b, `<text x="10" y="42" fill="#555555">%s</text>`+"\n", esc(subtitle))

	y := topMargin
	plotTop := y
	for _, g := range groups {
		y += groupHeight
		fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y-10, esc(g.title))
		if len(g.bars) == 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#888888">(no ratio measured)</text>`+"\n", barLeft, y-10)
		}
		for _, br := range g.bars {
			color := "#2e8b57"
			if br.ratio < 1 {
				color = "#d9822b"
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelWidth, y+15, esc(br.label))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %.2fx</title></rect>`+"\n",
				barLeft, y+3, x(br.ratio)-barLeft, rowHeight-6, color, esc(br.label), br.ratio)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%.2fx</text>`+"\n", x(br.ratio)+5, y+15, br.ratio)
			y += rowHeight
		}
	}
	// Axis: ticks every 0.5 (or 1 when the scale is wide), parity line at 1.
	step := 0.5
	if scale > 4 {
		step = math.Ceil(scale / 8)
	}
	for v := 0.0; v <= scale+1e-9; v += step {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#dddddd"/>`+"\n", x(v), plotTop+8, x(v), y+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555555">%gx</text>`+"\n", x(v), y+20, v)
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333" stroke-dasharray="4 3"/>`+"\n", x(1), plotTop+8, x(1), y+4)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#333333" font-size="11">parity</text>`+"\n", x(1)+4, plotTop+18)
	b.WriteString("</svg>\n")
	return b.String()
}

// niceTop rounds v up to a multiple of 0.5 (at least 1.5).
func niceTop(v float64) float64 {
	return max(1.5, math.Ceil(v*2)/2)
}

// esc escapes text for SVG (an XML dialect).
func esc(s string) string { return html.EscapeString(s) }
