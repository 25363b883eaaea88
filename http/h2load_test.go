package http

// HTTP/2 under h2load (issue 15; Debian's nghttp2-client): 20,000 GET
// /hello on 8 connections with 100 concurrent streams each, in cleartext
// (h2load speaks h2c by prior knowledge) and over TLS (ALPN h2); every
// request must succeed with a 2xx. Skipped without h2load.

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

var (
	h2loadRequests = regexp.MustCompile(`(?m)^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2loadStatus   = regexp.MustCompile(`(?m)^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx`)
	h2loadProto    = regexp.MustCompile(`(?m)^Application protocol: (\S+)`)
)

// h2loadRun runs h2load -n 20000 -c 8 -m 100 against /hello and checks its
// summary: 20,000 succeeded and 2xx, none failed, errored or timed out, on
// HTTP/2 (the protocol it reports: h2c in cleartext, h2 over TLS).
func h2loadRun(t *testing.T, addr string, tlsOn bool) {
	bin := lookTool(t, "h2load", "apt-get install nghttp2-client")
	const n = 20000
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-n", strconv.Itoa(n), "-c", "8", "-m", "100", h2Base(addr, tlsOn)+"/hello")
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("h2load did not finish in 3 minutes:\n%s", out.String())
	}
	if err != nil {
		t.Fatalf("h2load: %v\n%s", err, out.String())
	}
	text := out.String()
	proto := "h2c"
	if tlsOn {
		proto = "h2"
	}
	if m := h2loadProto.FindStringSubmatch(text); m == nil || m[1] != proto {
		t.Errorf("application protocol %v, want %s", m, proto)
	}
	m := h2loadRequests.FindStringSubmatch(text)
	s := h2loadStatus.FindStringSubmatch(text)
	if m == nil || s == nil {
		t.Fatalf("no requests or status codes line in h2load's output:\n%s", text)
	}
	num := func(s string) int { v, _ := strconv.Atoi(s); return v }
	total, succeeded, failed, errored, timeout := num(m[1]), num(m[4]), num(m[5]), num(m[6]), num(m[7])
	if total != n || succeeded != n || failed != 0 || errored != 0 || timeout != 0 || num(s[1]) != n {
		t.Errorf("h2load: %d total, %d succeeded, %d failed, %d errored, %d timeout, %d 2xx; want %d succeeded and 2xx, none failed:\n%s",
			total, succeeded, failed, errored, timeout, num(s[1]), n, text)
	}
}

func TestH2Load(t *testing.T) {
	lookTool(t, "h2load", "apt-get install nghttp2-client")
	h2Modes(t, h2loadRun)
}
