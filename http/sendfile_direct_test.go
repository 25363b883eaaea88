package http

import (
	nethttp "net/http"
	"os"
	"path/filepath"
	"testing"

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
