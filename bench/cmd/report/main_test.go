package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// echoReport and httpReport are reports as echobench and httpbench print
// them (trimmed).
const echoReport = `## Echo: uringnet vs net

Machine: test

| size   | server                 | msgs/s | p50 µs | msgs/s vs net | CPU/msg vs net |
| ------ | ---------------------- | -----: | -----: | ------------: | -------------: |
| 64 B   | uringnet               | 189490 |    311 |         1.28x |          0.92x |
| 64 B   | net                    | 148354 |    336 |             — |              — |
| 64 B   | uringnet (no batching) | 134242 |    401 |         0.90x |          1.16x |
| 16 KiB | uringnet               |  67724 |    918 |           n/a |          1.06x |

Idle connections:

| server   | idle conns | KiB per conn | vs net |
| -------- | ---------: | -----------: | -----: |
| uringnet |      10000 |         0.78 |  0.10x |
| net      |      10000 |         7.82 |      — |
`

const httpReport = `## HTTP: uringnet vs net/http, fasthttp, nginx

| scenario             | server           | req/s  | uringnet / peer | CPU/req uringnet / peer |
| -------------------- | ---------------- | -----: | --------------: | ----------------------: |
| plaintext keep-alive | uringnet         | 200000 |               — |                       — |
| plaintext keep-alive | net/http         | 100000 |           2.00x |                   0.50x |
| plaintext keep-alive | fasthttp \| fast | 190000 |           1.05x |                   0.90x |
| static 1 MiB         | nginx (failed)   |    n/a |             n/a |                     n/a |
`

func TestParseTables(t *testing.T) {
	ts := parseTables(echoReport)
	if len(ts) != 2 {
		t.Fatalf("%d tables, want 2", len(ts))
	}
	if ts[0].labels != 2 || len(ts[0].rows) != 4 || ts[0].header[4] != "msgs/s vs net" || ts[1].labels != 1 {
		t.Errorf("tables %+v", ts)
	}
	h := parseTables(httpReport)
	if len(h) != 1 || h[0].rows[2][1] != "fasthttp | fast" {
		t.Errorf("escaped pipe: %+v", h)
	}
	for _, md := range []string{"", "| a |\n", "| a | b |\n| --- |\n| 1 | 2 |\n", "text\n---\n"} {
		if ts := parseTables(md); len(ts) != 0 {
			t.Errorf("%q: %+v, want no table", md, ts)
		}
	}
}

func TestRatios(t *testing.T) {
	for _, tc := range []struct {
		md, column string
		want       []bar
	}{
		{echoReport, "msgs/s vs net", []bar{{"64 B · uringnet", 1.28}, {"64 B · uringnet (no batching)", 0.90}}},
		{httpReport, "uringnet / peer", []bar{{"plaintext keep-alive · net/http", 2}, {"plaintext keep-alive · fasthttp | fast", 1.05}}},
		{httpReport, "no such column", nil},
		{"", "uringnet / peer", nil},
	} {
		if got := ratios(tc.md, tc.column); !slices.Equal(got, tc.want) {
			t.Errorf("ratios(%q) = %v, want %v", tc.column, got, tc.want)
		}
	}
	for s, want := range map[string]float64{"1.28x": 1.28, " 0.5x ": 0.5, "—": 0, "n/a": 0, "x": 0, "-1x": 0, "1.2": 0, "NaNx": 0, "1e9x": 0} {
		if v, ok := parseRatio(s); v != want || ok != (want > 0) {
			t.Errorf("parseRatio(%q) = %v, %v", s, v, ok)
		}
	}
}

// checkSVG parses svg as XML and returns the texts of its <text> elements.
func checkSVG(t *testing.T, svg string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var texts []string
	inText := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return texts
}

func TestChartSVG(t *testing.T) {
	svg := chartSVG("title <&>", "sub", []group{
		{title: "Echo", bars: []bar{{"64 B · uringnet", 1.28}, {"16 KiB · a<b", 0.5}}},
		{title: "Empty"},
		{title: "HTTP", bars: []bar{{"plaintext · net/http", 7.5}}},
	})
	texts := strings.Join(checkSVG(t, svg), "\n")
	for _, want := range []string{"title <&>", "1.28x", "0.50x", "7.50x", "16 KiB · a<b", "(no ratio measured)", "parity", "0x", "1x"} {
		if !strings.Contains(texts, want) {
			t.Errorf("chart lacks %q:\n%s", want, texts)
		}
	}
	if !strings.Contains(svg, `fill="#d9822b"`) || !strings.Contains(svg, `fill="#2e8b57"`) {
		t.Error("slower and faster bars should differ in colour")
	}
	checkSVG(t, chartSVG("none", "", nil))
}

func TestSplice(t *testing.T) {
	fresh := splice("", "GEN\n")
	if !strings.HasPrefix(fresh, "# Benchmarks\n") || !strings.Contains(fresh, beginMarker+"\nGEN\n"+endMarker) {
		t.Errorf("fresh: %q", fresh)
	}
	kept := splice("# B\n\nintro\n\n<!-- report:begin old -->\nOLD\n<!-- report:end -->\n\nnotes\n", "NEW\n")
	if kept != "# B\n\nintro\n\n"+beginMarker+"\nNEW\n"+endMarker+"\n\nnotes\n" {
		t.Errorf("kept: %q", kept)
	}
	if again := splice(kept, "NEWER\n"); !strings.Contains(again, "NEWER") || strings.Contains(again, "NEW\n<") || !strings.HasSuffix(again, "notes\n") {
		t.Errorf("again: %q", again)
	}
	if noEnd := splice("<!-- report:begin -->\nX", "G\n"); !strings.HasPrefix(noEnd, "# Benchmarks") {
		t.Errorf("unterminated markers: %q", noEnd)
	}
}

func TestRender(t *testing.T) {
	when := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	md, svg := render("go run ./cmd/report -quick", when, []outcome{
		{c: comparisons[0], report: echoReport, took: 3 * time.Second},
		{c: comparisons[1], report: httpReport, err: errors.New("httpbench: exit status 1\nmore")},
		{c: comparisons[2], missing: true},
	})
	for _, want := range []string{"Generated 2026-11-22 10:00 UTC by `go run ./cmd/report -quick`", "![", "benchmarks.svg",
		"### Echo: uringnet vs net", "(echobench took 3s.)", "`httpbench` FAILED: httpbench: exit status 1\n",
		"### HTTP:", "`wsbench`: not in the repository yet"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	texts := strings.Join(checkSVG(t, svg), "\n")
	for _, want := range []string{"1.28x", "0.90x", "2.00x", "1.05x", comparisons[0].title, comparisons[1].title} {
		if !strings.Contains(texts, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	if strings.Contains(texts, "WebSocket") {
		t.Error("a missing comparison should not get a chart group")
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-benches", "http, echo", "-quick", "-install=false", "-http-args", "-peers uringnet,nethttp"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.benches, []string{"http", "echo"}) || !cfg.quick || cfg.install {
		t.Errorf("%+v", cfg)
	}
	h, _ := lookup("http")
	if got := cfg.args(h); !slices.Equal(got, append(append([]string{}, h.quick...), "-install=false", "-peers", "uringnet,nethttp")) {
		t.Errorf("http args %q", got)
	}
	def, err := parseFlags(nil, io.Discard)
	if err != nil || len(def.benches) != len(comparisons) || def.quick || !def.install {
		t.Errorf("defaults %+v %v", def, err)
	}
	if e, _ := lookup("echo"); len(def.args(e)) != 0 {
		t.Errorf("full echo run with arguments %q", def.args(e))
	}
	if r, _ := lookup("rooms"); !slices.Equal(def.args(r), []string{"-sections", "nats"}) {
		t.Errorf("full rooms run with arguments %q", def.args(r))
	}
	for _, bad := range [][]string{{"-benches", "grpc"}, {"-benches", ","}, {"stray"}, {"-nope"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	var help bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "-echo-args") {
		t.Errorf("-h: %v %q", err, help.String())
	}
}

// TestQuickReport runs the real comparisons with tiny settings and checks
// the documents they produce.
func TestQuickReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the benchmark commands (about 30 s)")
	}
	benches := "echo,websocket,rooms"
	if _, err := exec.LookPath("wrk"); err == nil {
		benches += ",http"
	} else {
		t.Log("wrk not installed: the HTTP comparison is left out")
	}
	docs := t.TempDir()
	os.WriteFile(filepath.Join(docs, "benchmarks.md"), []byte("# Mine\n\n<!-- report:begin -->\nold\n<!-- report:end -->\n\nmy notes\n"), 0o644)
	cfg, err := parseFlags([]string{"-docs", docs, "-quick", "-benches", benches, "-install=false",
		"-echo-args", "-series uringnet,net -idle 0", "-http-args", "-peers uringnet,nethttp -scenarios plaintext -conns 16 -tls none"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute) // a loaded, shared machine takes over 2
	defer cancel()
	if err := run(ctx, cfg, []string{"-quick"}, &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	md, _ := os.ReadFile(filepath.Join(docs, "benchmarks.md"))
	svg, _ := os.ReadFile(filepath.Join(docs, "benchmarks.svg"))
	if !strings.HasPrefix(string(md), "# Mine\n") || !strings.HasSuffix(string(md), "my notes\n") || strings.Contains(string(md), "\nold\n") {
		t.Errorf("notes outside the markers not kept:\n%s", md)
	}
	if !strings.Contains(string(md), "### Echo: uringnet vs net") || !strings.Contains(string(md), "./cmd/wsbench") {
		t.Errorf("benchmarks.md:\n%s", md)
	}
	// The rooms section: the fan-out's table, or n/a without a nats-server.
	if !strings.Contains(string(md), "### WebSocket rooms across instances (NATS)") ||
		!strings.Contains(string(md), "floor: p50 ≤ 2x") && !strings.Contains(string(md), "n/a: no nats-server") {
		t.Errorf("rooms section missing:\n%s", md)
	}
	texts := strings.Join(checkSVG(t, string(svg)), "\n")
	if got := ratios(string(md), "msgs/s vs net"); len(got) != 1 || !strings.Contains(texts, got[0].label) {
		t.Errorf("echo ratios %v; chart texts:\n%s", got, texts)
	}
	if strings.Contains(benches, "http") && len(ratios(string(md), "uringnet / peer")) != 1 {
		t.Errorf("http ratios missing:\n%s", md)
	}
}

// FuzzParseTables checks that any markdown parses without panicking, that
// every table's label count fits its header, and that ratios are positive.
func FuzzParseTables(f *testing.F) {
	f.Add(echoReport)
	f.Add(httpReport)
	f.Add("| a | b |\n| - | -: |\n| x | 1.5x |\n")
	f.Fuzz(func(t *testing.T, md string) {
		for _, tb := range parseTables(md) {
			if tb.labels > len(tb.header) {
				t.Fatalf("%d labels for %d columns", tb.labels, len(tb.header))
			}
		}
		for _, col := range []string{"b", "msgs/s vs net", "uringnet / peer"} {
			for _, b := range ratios(md, col) {
				if !(b.ratio > 0) {
					t.Fatalf("ratio %v", b.ratio)
				}
			}
		}
	})
}

// httpEpollReport is an httpbench report with the epoll backend as a peer.
const httpEpollReport = `## HTTP: uringnet vs net/http, fasthttp, nginx

| scenario             | server           | req/s  | uringnet / peer | epoll / peer |
| -------------------- | ---------------- | -----: | --------------: | -----------: |
| plaintext keep-alive | uringnet         | 200000 |               — |        0.95x |
| plaintext keep-alive | uringnet (epoll) | 190000 |           1.05x |            — |
| plaintext keep-alive | fasthttp         | 100000 |           2.00x |        1.90x |
`

func TestRenderEpoll(t *testing.T) {
	when := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	md, svg := render("go run ./cmd/report", when, []outcome{{c: comparisons[1], report: httpEpollReport}})
	if !strings.Contains(md, "`URINGNET_BACKEND=epoll`") || !strings.Contains(md, `"epoll / peer" columns`) {
		t.Errorf("markdown does not describe the epoll column:\n%s", md)
	}
	texts := strings.Join(checkSVG(t, svg), "\n")
	for _, want := range []string{comparisons[1].more[0].title, "plaintext keep-alive · uringnet", "0.95x", "1.90x"} {
		if !strings.Contains(texts, want) {
			t.Errorf("chart lacks %q:\n%s", want, texts)
		}
	}
	// Without the epoll peer: no epoll group, no word of it.
	md, svg = render("go run ./cmd/report", when, []outcome{{c: comparisons[1], report: httpReport}})
	if strings.Contains(md, "URINGNET_BACKEND") || strings.Contains(svg, "epoll") {
		t.Errorf("epoll mentioned without the epoll peer:\n%s\n%s", md, svg)
	}
}

// httpAdapterReport is an httpbench report with the net/http adapter as a peer.
const httpAdapterReport = `## HTTP: uringnet vs net/http, fasthttp, nginx

| scenario             | server                    | req/s  | uringnet / peer | adapter / peer |
| -------------------- | ------------------------- | -----: | --------------: | -------------: |
| plaintext keep-alive | uringnet                  | 200000 |               — |          0.60x |
| plaintext keep-alive | uringnet net/http adapter | 120000 |           1.67x |              — |
| plaintext keep-alive | net/http                  |  60000 |           3.33x |          2.00x |
`

func TestRenderAdapter(t *testing.T) {
	when := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
	md, svg := render("go run ./cmd/report", when, []outcome{{c: comparisons[1], report: httpAdapterReport}})
	if !strings.Contains(md, `"adapter / peer" columns`) {
		t.Errorf("markdown does not describe the adapter column:\n%s", md)
	}
	texts := strings.Join(checkSVG(t, svg), "\n")
	for _, want := range []string{comparisons[1].more[1].title, "plaintext keep-alive · net/http", "2.00x"} {
		if !strings.Contains(texts, want) {
			t.Errorf("chart lacks %q:\n%s", want, texts)
		}
	}
	if strings.Contains(texts, comparisons[1].more[0].title) {
		t.Errorf("epoll group without the epoll peer:\n%s", texts)
	}
	md, _ = render("go run ./cmd/report", when, []outcome{{c: comparisons[1], report: httpReport}})
	if strings.Contains(md, "adapter") {
		t.Errorf("adapter mentioned without the adapter peer:\n%s", md)
	}
}

// httpTLSReport is an httpbench report with its HTTPS section.
const httpTLSReport = httpReport + `
### HTTPS: TLS 1.3

| scenario                         | server   | req/s | uringnet / peer |
| -------------------------------- | -------- | ----: | --------------: |
| HTTPS plaintext keep-alive       | uringnet | 60000 |               — |
| HTTPS plaintext keep-alive       | net/http | 30000 |           2.00x |
| HTTPS new connection per request | net/http |  2000 |           1.10x |
`

func TestRenderTLS(t *testing.T) {
	md, svg := render("go run ./cmd/report", time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC),
		[]outcome{{c: comparisons[1], report: httpTLSReport}})
	if !strings.Contains(md, "The HTTPS runs (issue 11)") || !strings.Contains(md, "#### HTTPS: TLS 1.3") {
		t.Errorf("markdown:\n%s", md)
	}
	texts := strings.Join(checkSVG(t, svg), "\n")
	title := comparisons[1].split[0].title
	if !strings.Contains(texts, title) || !strings.Contains(texts, "HTTPS new connection per request · net/http") {
		t.Errorf("chart lacks the HTTPS group:\n%s", texts)
	}
	// The HTTPS bars are in their own group only: the HTTP group keeps its two.
	i, j := strings.Index(texts, comparisons[1].title), strings.Index(texts, title)
	if i < 0 || j < i || strings.Contains(texts[i:j], "HTTPS") {
		t.Errorf("HTTPS bars in the HTTP group:\n%s", texts)
	}
}

const roomsReport = `## WebSocket rooms across instances (NATS)

| configuration         | clients | runs | last client p50 ms | last client max ms | p50 vs 1 instance | max vs 1 instance | floor: p50 ≤ 2x |
| --------------------- | ------: | ---: | -----------------: | -----------------: | ----------------: | ----------------: | --------------: |
| 1 instance (no bus)   |   10000 |    3 |              180.9 |              217.9 |                 — |                 — |               — |
| 2 instances over NATS |   10000 |    3 |              228.2 |              277.7 |             1.26x |             1.27x |            PASS |
`

// TestRenderRooms checks that the rooms section (issue 12) goes into the document under
// its own heading and adds no chart group: its ratios are not against a peer.
func TestRenderRooms(t *testing.T) {
	when := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	r, ok := lookup("rooms")
	if !ok || r.cmd != "wsbench" || r.column != "" {
		t.Fatalf("rooms comparison %+v", r)
	}
	md, svg := render("go run ./cmd/report", when, []outcome{{c: comparisons[0], report: echoReport}, {c: r, report: roomsReport}})
	if !strings.Contains(md, "### WebSocket rooms across instances (NATS)") || !strings.Contains(md, "PASS |") ||
		!strings.Contains(md, "lower is better") {
		t.Errorf("markdown:\n%s", md)
	}
	texts := strings.Join(checkSVG(t, svg), "\n")
	if strings.Contains(texts, r.title) || strings.Contains(texts, "1.26x") {
		t.Errorf("rooms in the chart:\n%s", texts)
	}
}

const upgradeReport = `## Upgrade under load (issue 13)

| rounds | offered req/s | p99 without ms | p99 during ms | p99 during / without | floor: ≤ 2x | failed requests | floor: 0 | SIGHUP → serving median ms | SIGHUP → serving max ms |
| ------ | ------------: | -------------: | ------------: | -------------------: | ----------: | --------------: | -------: | -------------------------: | ----------------------: |
| 3      |         20000 |           1.20 |          2.10 |                1.75x | PASS (3 of 3 rounds) |  0 |     PASS |                      22.00 |                   33.00 |
`

// TestRenderUpgrade checks that the upgrade section (issue 13) goes into the document
// under its own heading and adds no chart group.
func TestRenderUpgrade(t *testing.T) {
	when := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	u, ok := lookup("upgrade")
	if !ok || u.cmd != "upgradebench" || u.column != "" || len(u.args) != 0 {
		t.Fatalf("upgrade comparison %+v", u)
	}
	md, svg := render("go run ./cmd/report", when, []outcome{{c: comparisons[0], report: echoReport}, {c: u, report: upgradeReport}})
	if !strings.Contains(md, "### Upgrade under load (issue 13)") || !strings.Contains(md, "PASS (3 of 3 rounds)") ||
		!strings.Contains(md, "upgrade section (issue 13)") {
		t.Errorf("markdown:\n%s", md)
	}
	texts := strings.Join(checkSVG(t, svg), "\n")
	if strings.Contains(texts, u.title) || strings.Contains(texts, "1.75x") {
		t.Errorf("upgrade in the chart:\n%s", texts)
	}
	cfg, err := parseFlags([]string{"-benches", "upgrade", "-quick"}, io.Discard)
	if err != nil || !slices.Equal(cfg.benches, []string{"upgrade"}) || !slices.Equal(cfg.args(u), u.quick) {
		t.Errorf("-benches upgrade -quick: %+v %v", cfg, err)
	}
}

const cgiReport = `## CGI and FastCGI (issue 14)

| scenario                    | server           | req/s | p50 ms | p99 ms | errors | CPU 0 ms/req | uringnet / nginx |
| --------------------------- | ---------------- | ----: | -----: | -----: | -----: | -----------: | ---------------: |
| CGI hello world (sh script) | uringnet (CGI)   |  1500 |  20.00 |  30.00 |      0 |        0.667 |            1.50x |
| CGI hello world (sh script) | nginx → fcgiwrap |  1000 |  30.00 |  40.00 |      0 |        1.000 |                  |

Issue 14's floors:

- CGI hello world (sh script), uringnet req/s ≥ nginx + fcgiwrap: floor met: yes (1500 vs 1000 req/s, 1.50x)
`

// TestRenderCGI checks that the cgi section (issue 14) goes into the document and its
// ratios into a chart group of their own.
func TestRenderCGI(t *testing.T) {
	when := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	c, ok := lookup("cgi")
	if !ok || c.cmd != "cgibench" || c.column != "uringnet / nginx" {
		t.Fatalf("cgi comparison %+v", c)
	}
	md, svg := render("go run ./cmd/report", when, []outcome{{c: comparisons[0], report: echoReport}, {c: c, report: cgiReport}})
	if !strings.Contains(md, "### CGI and FastCGI (issue 14)") || !strings.Contains(md, "floor met: yes") {
		t.Errorf("markdown:\n%s", md)
	}
	texts := strings.Join(checkSVG(t, svg), "\n")
	if !strings.Contains(texts, c.title) || !strings.Contains(texts, "CGI hello world (sh script) · uringnet (CGI)") ||
		!strings.Contains(texts, "1.50x") {
		t.Errorf("cgi chart group missing:\n%s", texts)
	}
}

const http2Report = `## HTTP/2 (h2c): uringnet vs net/http, nginx

| scenario                              | server       | req/s | mean ms | max ms | CPU µs/req | server CPU % | RSS MiB | uringnet / peer | CPU/req uringnet / peer |
| ------------------------------------- | ------------ | ----: | ------: | -----: | ---------: | -----------: | ------: | --------------: | ----------------------: |
| plaintext h2c (8 conns x 100 streams) | uringnet     | 60000 |   12.00 |  30.00 |      15.00 |           90 |    10.0 |               — |                       — |
| plaintext h2c (8 conns x 100 streams) | net/http h2c | 20000 |   36.00 |  90.00 |      46.00 |          100 |    22.0 |           3.00x |                   0.33x |
`

// TestRenderHTTP2 checks that the http2 section (issue 15) goes into the document and its
// ratios into a chart group of their own.
func TestRenderHTTP2(t *testing.T) {
	when := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	c, ok := lookup("http2")
	if !ok || c.cmd != "h2bench" || c.column != "uringnet / peer" || !c.install {
		t.Fatalf("http2 comparison %+v", c)
	}
	md, svg := render("go run ./cmd/report", when, []outcome{{c: comparisons[0], report: echoReport}, {c: c, report: http2Report}})
	if !strings.Contains(md, "### HTTP/2 (h2c): uringnet vs net/http, nginx") {
		t.Errorf("markdown:\n%s", md)
	}
	texts := strings.Join(checkSVG(t, svg), "\n")
	if !strings.Contains(texts, c.title) || !strings.Contains(texts, "plaintext h2c (8 conns x 100 streams) · net/http h2c") ||
		!strings.Contains(texts, "3.00x") {
		t.Errorf("http2 chart group missing:\n%s", texts)
	}
}
