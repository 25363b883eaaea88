package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uringnet/uringnet/bench/internal/reqlog"
)

func TestReadResponse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		closing bool
		bad     bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, false},
		{"HTTP/1.1 200 OK\r\nconnection: Close\r\ncontent-length: 0\r\n\r\n", true, false},
		{"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", false, true},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, true},
		{"HTTP/1.1 200 OK\r\n\r\n", false, true},
		{"HTTP/1.1 200 OK\r\nContent-Len", false, true},
	} {
		closing, err := readResponse(bufio.NewReader(strings.NewReader(tc.in)))
		if (err != nil) != tc.bad || (err == nil && closing != tc.closing) {
			t.Errorf("%q: closing %v, err %v", tc.in, closing, err)
		}
	}
}

// TestLoad runs the load briefly against a server that closes every tenth connection with
// "Connection: close" and closes some idle ones: no failure, every request recorded.
func TestLoad(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte("Hello, World!"))
	}))
	defer srv.Close()
	records := filepath.Join(t.TempDir(), "records")
	var out bytes.Buffer
	addr := srv.Listener.Addr().(*net.TCPAddr).String()
	if err := run(context.Background(), []string{"-addr", addr, "-conns", "4", "-rate", "400", "-duration", "300ms", "-records", records}, &out); err != nil {
		t.Fatal(err)
	}
	var sum reqlog.Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	recs, err := reqlog.Read(records)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 0 || sum.Requests < 80 || int64(len(recs)) != sum.Requests || sum.Closes == 0 || sum.Dials < sum.Closes {
		t.Errorf("summary %+v, %d records", sum, len(recs))
	}
	dialed := 0
	for _, r := range recs {
		if r.Dialed {
			dialed++
		}
		if r.Start < sum.StartNs || r.Start > sum.EndNs || r.Latency <= 0 || r.Lag < 0 {
			t.Fatalf("record %+v outside the run %d..%d", r, sum.StartNs, sum.EndNs)
		}
	}
	if int64(dialed) != sum.Dials {
		t.Errorf("%d records dialed, %d dials", dialed, sum.Dials)
	}
}

// TestIdleClosed checks that an idle connection the server closed is dialed again, not
// counted as a failure.
func TestIdleClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // one response, then close while idle
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					l, err := br.ReadString('\n')
					if err != nil || l == "\r\n" {
						break
					}
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			}()
		}
	}()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-addr", ln.Addr().String(), "-conns", "1", "-rate", "50", "-duration", "200ms",
		"-records", filepath.Join(t.TempDir(), "r")}, &out); err != nil {
		t.Fatal(err)
	}
	var sum reqlog.Summary
	json.Unmarshal(out.Bytes(), &sum)
	if sum.Failed != 0 || sum.Requests < 5 || sum.IdleClosed < sum.Requests-1 {
		t.Errorf("summary %+v", sum)
	}
}
