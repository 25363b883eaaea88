package cgi

import (
	"strings"
	"testing"
)

// TestResponses checks the translation of script outputs, table-driven.
func TestResponses(t *testing.T) {
	hs := startServer(t, nil)
	base := fdCount(t)
	tests := []struct {
		name, path string
		status     int
		body       string // exact, or prefix when prefix is set
		prefix     bool
		header     map[string]string
		te         string // "chunked", "none", or "" (not checked)
	}{
		{name: "quick", path: "/cgi-bin/quick.sh", status: 200, body: "quick\n", te: "chunked",
			header: map[string]string{"Content-Type": "text/plain"}},
		{name: "slow stream", path: "/cgi-bin/slow.sh", status: 200, body: "line 1\nline 2\nline 3\nline 4\nline 5\n", te: "chunked"},
		{name: "status", path: "/cgi-bin/status.sh", status: 201, body: "created\n",
			header: map[string]string{"X-Script": "yes", "Connection": ""}},
		{name: "local redirect", path: "/cgi-bin/local.sh", status: 200, body: "GATEWAY_INTERFACE=CGI/1.1", prefix: true},
		{name: "redirect outside", path: "/cgi-bin/outside.sh", status: 302,
			header: map[string]string{"Location": "/elsewhere?x=1"}},
		{name: "redirect loop", path: "/cgi-bin/loop.sh", status: 502, prefix: true},
		{name: "client redirect", path: "/cgi-bin/client.sh", status: 302, body: "moved\n",
			header: map[string]string{"Location": "http://example.com/there"}},
		{name: "nph", path: "/cgi-bin/nph-raw.sh", status: 202, body: "raw body\n",
			header: map[string]string{"X-Nph": "1"}},
		{name: "garbage head", path: "/cgi-bin/garbage.sh", status: 502, prefix: true},
		{name: "no head", path: "/cgi-bin/nohead.sh", status: 502, prefix: true},
		{name: "not executable", path: "/cgi-bin/noexec.sh", status: 502, prefix: true},
		{name: "missing", path: "/cgi-bin/missing.sh", status: 404, prefix: true},
		{name: "missing below", path: "/cgi-bin/nodir/x.sh", status: 404, prefix: true},
		{name: "directory", path: "/cgi-bin/sub/", status: 403, prefix: true},
		{name: "dot dot", path: "/cgi-bin/%2e%2e/cgi_test.go", status: 403, prefix: true},
		{name: "path info", path: "/cgi-bin/sub/script.sh/a/b", status: 200, body: "sub /a/b\n"},
		{name: "exit 1 after output", path: "/cgi-bin/exit1.sh", status: 200, body: "partial\n"},
		{name: "length", path: "/cgi-bin/length.py?100000", status: 200, body: "\x00\x01\x02", prefix: true, te: "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := hs.get(tc.path)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.status, body)
			}
			if tc.prefix && !strings.HasPrefix(body, tc.body) || !tc.prefix && body != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
			for k, v := range tc.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			te := "none"
			if len(resp.TransferEncoding) > 0 {
				te = resp.TransferEncoding[0]
			}
			if tc.te != "" && te != tc.te {
				t.Errorf("transfer coding %q, want %q", te, tc.te)
			}
			if tc.te == "none" && resp.ContentLength < 0 {
				t.Errorf("no Content-Length")
			}
		})
	}
	hs.cl.CloseIdleConnections()
	checkClean(t, hs.cgi, base)
	st := hs.cgi.Stats()
	if st.Status502 < 4 || st.Redirects < 1 || st.ExitedNonZero < 2 {
		t.Errorf("stats %+v", st)
	}
}
