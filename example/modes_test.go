package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"strings"
	"testing"
	"time"
)

// TestFiles: files with ranges and conditionals, in both modes (native
// SendFile; http.FileServer through the adapter).
func TestFiles(t *testing.T) {
	const size = 1 << 20
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) {
			addr, _ := startDemo(t, options{bigFile: size, stdlib: mode.stdlib})
			base := "http://" + addr
			resp, whole := get(t, base+"/big.bin")
			if resp.StatusCode != 200 || len(whole) != size || resp.Header.Get("Content-Length") != itoa(size) {
				t.Fatalf("GET /big.bin: %d, %d bytes, Content-Length %q", resp.StatusCode, len(whole), resp.Header.Get("Content-Length"))
			}
			lastMod := resp.Header.Get("Last-Modified")
			if lastMod == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
				t.Errorf("GET /big.bin: Last-Modified %q, Accept-Ranges %q", lastMod, resp.Header.Get("Accept-Ranges"))
			}
			for _, tc := range []struct {
				name   string
				header map[string]string
				status int
				body   string // "" for none checked
				crange string
			}{
				{"range", map[string]string{"Range": "bytes=6400-6527"}, 206, whole[6400:6528], fmt.Sprintf("bytes 6400-6527/%d", size)},
				{"suffix range", map[string]string{"Range": "bytes=-64"}, 206, whole[size-64:], fmt.Sprintf("bytes %d-%d/%d", size-64, size-1, size)},
				{"open range", map[string]string{"Range": "bytes=1048000-"}, 206, whole[1048000:], fmt.Sprintf("bytes 1048000-%d/%d", size-1, size)},
				{"unsatisfiable", map[string]string{"Range": fmt.Sprintf("bytes=%d-", size)}, 416, "", fmt.Sprintf("bytes */%d", size)},
				{"not modified", map[string]string{"If-Modified-Since": lastMod}, 304, "", ""},
				{"modified since", map[string]string{"If-Modified-Since": "Mon, 02 Jan 2006 15:04:05 GMT"}, 200, whole, ""},
				{"precondition failed", map[string]string{"If-Unmodified-Since": "Mon, 02 Jan 2006 15:04:05 GMT"}, 412, "", ""},
				{"if-range stale", map[string]string{"Range": "bytes=0-9", "If-Range": "Mon, 02 Jan 2006 15:04:05 GMT"}, 200, whole, ""},
				{"if-range fresh", map[string]string{"Range": "bytes=0-9", "If-Range": lastMod}, 206, whole[:10], fmt.Sprintf("bytes 0-9/%d", size)},
			} {
				req, _ := nethttp.NewRequest("GET", base+"/big.bin", nil)
				for k, v := range tc.header {
					req.Header.Set(k, v)
				}
				resp, err := nethttp.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("%s: body: %v", tc.name, err)
				}
				if resp.StatusCode != tc.status || tc.body != "" && string(b) != tc.body || resp.Header.Get("Content-Range") != tc.crange {
					t.Errorf("%s: %d, %d bytes, Content-Range %q; want %d, %d bytes, %q",
						tc.name, resp.StatusCode, len(b), resp.Header.Get("Content-Range"), tc.status, len(tc.body), tc.crange)
				}
			}
			// The page the browser test drives, and the index.
			if resp, body := get(t, base+"/range.html"); resp.StatusCode != 200 || !strings.Contains(body, "fetch-range") {
				t.Errorf("GET /range.html: %d", resp.StatusCode)
			}
			if resp, body := get(t, base+"/"); resp.StatusCode != 200 || !strings.Contains(body, "<h1>uringnet</h1>") {
				t.Errorf("GET /: %d", resp.StatusCode)
			}
			nethttp.DefaultClient.CloseIdleConnections()
		})
	}
}

// TestEcho: POST /echo in both modes: bodies of known length streamed
// back, chunked ones collected, too large a chunked one refused.
func TestEcho(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) {
			addr, _ := startDemo(t, options{bigFile: 1 << 10, stdlib: mode.stdlib})
			client := &nethttp.Client{Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			for _, tc := range []struct {
				name    string
				body    []byte
				chunked bool
				status  int
			}{
				{"empty", nil, false, 200},
				{"small", []byte("ping"), false, 200},
				{"large", big, false, 200},
				{"chunked", big[:100000], true, 200},
				{"chunked at the limit", big, true, 200},
				{"chunked over the limit", append(big[:len(big):len(big)], 'x'), true, 413},
			} {
				var r io.Reader = bytes.NewReader(tc.body)
				if tc.chunked {
					r = io.MultiReader(r) // unknown length: chunked
				}
				req, _ := nethttp.NewRequest("POST", "http://"+addr+"/echo", r)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.status || tc.status == 200 && (err != nil || !bytes.Equal(b, tc.body)) {
					t.Errorf("%s: %d, %d bytes back (%v); want %d, %d bytes", tc.name, resp.StatusCode, len(b), err, tc.status, len(tc.body))
				}
				if tc.status == 200 && resp.Header.Get("Content-Type") != "application/octet-stream" {
					t.Errorf("%s: Content-Type %q", tc.name, resp.Header.Get("Content-Type"))
				}
			}
		})
	}
}

// TestEchoExpectContinue: a client that waits for 100 Continue gets it
// before the response head, and its body back intact.
func TestEchoExpectContinue(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) {
			addr, _ := startDemo(t, options{bigFile: 1 << 10, stdlib: mode.stdlib})
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			body := strings.Repeat("expect me ", 1000)
			fmt.Fprintf(conn, "POST /echo HTTP/1.1\r\nHost: demo\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
			br := bufio.NewReader(conn)
			line, err := br.ReadString('\n')
			if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
				t.Fatalf("first line %q (%v), want 100 Continue", line, err)
			}
			if blank, _ := br.ReadString('\n'); blank != "\r\n" {
				t.Fatalf("after 100 Continue: %q", blank)
			}
			io.WriteString(conn, body)
			resp, err := nethttp.ReadResponse(br, &nethttp.Request{Method: "POST"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != body {
				t.Errorf("%d, %d bytes back (%v), want 200 and the %d bytes sent", resp.StatusCode, len(b), err, len(body))
			}
		})
	}
}

// TestPipelinedMix: requests of every kind pipelined on one connection
// (native mode: the adapter's /metrics between SendFile's files, whose
// completions must not be taken for the adapter's) are answered in order.
func TestPipelinedMix(t *testing.T) {
	for _, mode := range demoModes {
		t.Run(mode.name, func(t *testing.T) {
			addr, _ := startDemo(t, options{bigFile: 4 << 20, stdlib: mode.stdlib})
			var reqs []string
			var want []int
			for range 5 {
				reqs = append(reqs, rawGet("GET", "/big.bin"), rawGet("GET", "/metrics"), rawGet("HEAD", "/metrics"),
					"GET /big.bin HTTP/1.1\r\nHost: demo\r\nRange: bytes=0-99\r\n\r\n", rawGet("GET", "/metrics"),
					rawGet("GET", "/style.css"), "POST /echo HTTP/1.1\r\nHost: demo\r\nContent-Length: 3\r\n\r\nabc",
					rawGet("GET", "/metrics"), rawGet("PUT", "/metrics"), rawGet("GET", "/plaintext"),
					"GET /metrics HTTP/1.1\r\nHost: demo\r\nContent-Length: 5\r\n\r\nhello",
					"POST /echo HTTP/1.1\r\nHost: demo\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n")
				want = append(want, 200, 200, 200, 206, 200, 200, 200, 200, 405, 200, 200, 200)
			}
			got := rawExchange(t, addr, reqs...)
			for i, r := range got {
				if r.status != want[i] {
					t.Errorf("response %d (to %q): %d, want %d", i, firstLine(reqs[i]), r.status, want[i])
				}
				if strings.HasSuffix(firstLine(reqs[i]), "/metrics HTTP/1.1") && strings.HasPrefix(reqs[i], "GET") &&
					!strings.Contains(r.body, "uringnet_http_requests_total") {
					t.Errorf("response %d: not the metrics: %.100q", i, r.body)
				}
			}
			if len(got[0].body) != 4<<20 || got[3].body != got[0].body[:100] || got[6].body != "abc" || got[11].body != "xyz" {
				t.Errorf("bodies: big.bin %d bytes, range %q, echo %q, chunked echo %q",
					len(got[0].body), got[3].body, got[6].body, got[11].body)
			}
		})
	}
}
