package http

// HTTP/2 conformance with h2spec (issue 15; github.com/summerwind/h2spec,
// which .ci/run installs with go install): every case passes, over h2c and
// over TLS. The handler answers GET / and POST / (h2spec sends both, some
// with DATA frames) with 200 and a small body (h2Handler). Skipped
// without h2spec in PATH or in $GOPATH/bin.

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// h2specReport is the part of h2spec's JUnit report (-j) read here: one
// suite per section, one case per test. h2spec writes a failed case as
// <error> (its *TestError misses the <failure> branch), so both count.
type h2specReport struct {
	Suites []struct {
		Package string `xml:"package,attr"`
		Name    string `xml:"name,attr"`
		Cases   []struct {
			Package   string    `xml:"package,attr"`
			ClassName string    `xml:"classname,attr"`
			Failure   *xmlInner `xml:"failure"`
			Error     *xmlInner `xml:"error"`
			Skipped   *xmlInner `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

type xmlInner struct {
	Content string `xml:",innerxml"`
}

// h2specResult counts a report's cases and lists the failed ones, each as
// "id: description: message" with the id as h2spec prints it (the section,
// then the case's number in it: http2/6.9.1/2).
func h2specResult(rep *h2specReport) (total, skipped int, failed []string) {
	for _, s := range rep.Suites {
		for i, c := range s.Cases {
			total++
			id := c.Package + "/" + strconv.Itoa(i+1)
			switch {
			case c.Skipped != nil:
				skipped++
			case c.Failure != nil || c.Error != nil:
				msg := ""
				if c.Failure != nil {
					msg = c.Failure.Content
				}
				if c.Error != nil {
					msg += c.Error.Content
				}
				failed = append(failed, fmt.Sprintf("%s: %s: %s", id, c.ClassName, h2specMessage(msg)))
			}
		}
	}
	return total, skipped, failed
}

// h2specMessage makes one line of a failed case's text: h2spec writes the
// frames it expected one a line, then what it got.
func h2specMessage(msg string) string {
	var lines []string
	for l := range strings.Lines(msg) {
		if l = strings.TrimSpace(l); l != "" && l != "Expect:" && l != "Actual:" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 {
		return strings.Join(lines, "")
	}
	return "expected " + strings.Join(lines[:len(lines)-1], " or ") + "; got " + lines[len(lines)-1]
}

// h2specExec runs h2spec against addr (5 s per case at most) with extra
// arguments last, and returns its report; it fails the test without one.
func h2specExec(t *testing.T, addr string, tlsOn bool, extra ...string) *h2specReport {
	bin := lookTool(t, "h2spec", "go install github.com/summerwind/h2spec/cmd/h2spec@latest")
	report := filepath.Join(t.TempDir(), "report.xml")
	args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(h2Port(t, addr)), "-o", "5", "-j", report}
	if tlsOn {
		args = append(args, "-t", "-k")
	}
	args = append(args, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run() // exit status 1 when a case failed: the report says which
	if ctx.Err() != nil {
		t.Fatalf("h2spec %v did not finish in 4 minutes:\n%s", args, tail(out.String(), 4000))
	}
	// h2spec writes no report when it stops early (a case that could not
	// even connect, as without HTTP/2).
	data, rerr := os.ReadFile(report)
	if rerr != nil {
		t.Fatalf("h2spec %v: %v, no report (%v):\n%s", args, err, rerr, tail(out.String(), 4000))
	}
	var rep h2specReport
	if err := xml.Unmarshal(data, &rep); err != nil {
		t.Fatalf("h2spec's report: %v", err)
	}
	if total, _, failed := h2specResult(&rep); total == 0 || (err != nil && len(failed) == 0) {
		t.Fatalf("h2spec %v: %v, %d cases, %d failed:\n%s", args, err, total, len(failed), tail(out.String(), 4000))
	}
	return &rep
}

// h2specRun runs all of h2spec's cases but the strict ones against addr and
// fails listing every case that failed. Then it runs the strict ones' section
// (5.4.1: GOAWAY before closing on a connection error, a SHOULD) and only
// reports them.
func h2specRun(t *testing.T, addr string, tlsOn bool) {
	total, skipped, failed := h2specResult(h2specExec(t, addr, tlsOn))
	for _, f := range failed {
		t.Error(f)
	}
	summary := fmt.Sprintf("h2spec: %d cases, %d passed, %d skipped, %d failed", total, total-skipped-len(failed), skipped, len(failed))
	if len(failed) > 0 {
		t.Error(summary)
		return
	}
	t.Log(summary)
	_, _, strict := h2specResult(h2specExec(t, addr, tlsOn, "--strict", "http2/5.4.1"))
	for _, f := range strict {
		t.Log("strict (reported, not required):", f)
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func TestH2Spec(t *testing.T) {
	lookTool(t, "h2spec", "go install github.com/summerwind/h2spec/cmd/h2spec@latest")
	h2ModesParallel(t, h2specRun)
}
