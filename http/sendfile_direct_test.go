package http

import (
	"bufio"
	"bytes"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uringnet/uringnet/sendfile"
)

// TestSendFileDirect serves files through the direct sendfile path (a sender with
// Config.Direct, and files from directFrom bytes up skipping the cache): whole files, HEAD,
// a range, several ranges, 304, a symlink leaving the root, a replaced file, and the
// descriptors all closed afterwards.
func TestSendFileDirect(t *testing.T) {
	old := directFrom
	directFrom = 1
	t.Cleanup(func() { directFrom = old })
	t.Setenv("URINGNET_SENDFILE", "")
	s, _, root := startHTTP(t, Config{SendFile: sendfile.Config{Direct: true, MaxPipes: 2}})
	if !s.sender.Direct() {
		t.Fatal("sender is not direct")
	}
	client := &nethttp.Client{}
	for range 3 {
		resp, body := get(t, client, newReq(t, "GET", url(s, "/big.bin"), nil))
		if resp.StatusCode != 200 || string(body) != string(bigContent) || resp.Header.Get("ETag") == "" {
			t.Fatalf("big.bin: %d, %d bytes", resp.StatusCode, len(body))
		}
		resp, body = get(t, client, newReq(t, "GET", url(s, "/small.txt"), nil))
		if resp.StatusCode != 200 || string(body) != "hello small file\n" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Fatalf("small.txt: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
	}
	resp, body := get(t, client, newReq(t, "HEAD", url(s, "/digits.txt"), nil))
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != 20 {
		t.Fatalf("HEAD: %d %d", resp.StatusCode, resp.ContentLength)
	}
	resp, body = get(t, client, newReq(t, "GET", url(s, "/digits.txt"), nil, "Range", "bytes=2-5"))
	if resp.StatusCode != 206 || string(body) != "2345" {
		t.Fatalf("range: %d %q", resp.StatusCode, body)
	}
	resp, body = get(t, client, newReq(t, "GET", url(s, "/digits.txt"), nil, "Range", "bytes=0-1,4-5"))
	if resp.StatusCode != 206 || len(body) == 0 {
		t.Fatalf("ranges: %d %q", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	resp, _ = get(t, client, newReq(t, "GET", url(s, "/digits.txt"), nil, "If-None-Match", etag))
	if resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	if resp, _ = get(t, client, newReq(t, "GET", url(s, "/escape.txt"), nil)); resp.StatusCode == 200 {
		t.Fatalf("escape.txt: %d", resp.StatusCode)
	}
	if err := os.WriteFile(filepath.Join(root, "digits.txt"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, body = get(t, client, newReq(t, "GET", url(s, "/digits.txt"), nil)); string(body) != "new" {
		t.Fatalf("replaced: %d %q", resp.StatusCode, body)
	}
	client.CloseIdleConnections()
	if st := s.Cache().Stats(); st.Entries != 0 {
		t.Errorf("the cache holds %d entries; the direct path should skip it", st.Entries)
	}
}

// TestSendFileMemSend serves a cached file of memSendFrom bytes or more, which goes out
// straight from the cache entry (memSend): whole, a range, and pipelined between two other
// responses on one connection, in order.
func TestSendFileMemSend(t *testing.T) {
	s, _, root := startHTTP(t, Config{})
	data := make([]byte, 40<<10+3)
	for i := range data {
		data[i] = byte(i*13 + i>>9)
	}
	if err := os.WriteFile(filepath.Join(root, "mid.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	client := &nethttp.Client{}
	for i := range 3 {
		resp, body := get(t, client, newReq(t, "GET", url(s, "/mid.bin"), nil))
		if resp.StatusCode != 200 || !bytes.Equal(body, data) {
			t.Fatalf("GET %d: %d, %d bytes", i, resp.StatusCode, len(body))
		}
	}
	if st := s.Cache().Stats(); st.Hits < 2 {
		t.Errorf("cache stats %+v: mid.bin not served from the cache", st)
	}
	resp, body := get(t, client, newReq(t, "GET", url(s, "/mid.bin"), nil, "Range", "bytes=100-20099"))
	if resp.StatusCode != 206 || !bytes.Equal(body, data[100:20100]) {
		t.Fatalf("range: %d, %d bytes", resp.StatusCode, len(body))
	}
	client.CloseIdleConnections()

	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /mid.bin HTTP/1.1\r\nHost: x\r\n\r\n"+
		"GET /digits.txt HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for i, want := range [][]byte{[]byte("hello small file\n"), data, []byte("0123456789abcdefghij")} {
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("pipelined response %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(body, want) {
			t.Fatalf("pipelined response %d: %d, %d bytes, %v", i, resp.StatusCode, len(body), err)
		}
	}
}
