package http

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// curl runs curl against the server and returns its output (headers with -i
// or -I, then the body). The test is skipped when curl is not installed.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not available:", err)
	}
	cmd := exec.Command("curl", append([]string{"-sS", "--max-time", "10"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl %v: %v: %s", args, err, stderr.String())
	}
	return strings.ReplaceAll(string(out), "\r\n", "\n")
}

func TestAgainstCurl(t *testing.T) {
	s, _, _ := startHTTP(t, Config{})
	cases := []struct {
		name string
		args []string
		want []string // substrings that must all appear
		not  []string // substrings that must not appear
	}{
		{"plaintext", []string{"-i", url(s, "/plaintext")},
			[]string{"HTTP/1.1 200 OK\n", "Content-Length: 13\n", "\nHello, World!"}, nil},
		{"range", []string{"-i", "-r", "2-5", url(s, "/digits.txt")},
			[]string{"HTTP/1.1 206", "Content-Range: bytes 2-5/20\n", "Content-Length: 4\n", "\n2345"}, []string{"0123"}},
		{"suffix range", []string{"-i", "-r", "-3", url(s, "/digits.txt")},
			[]string{"HTTP/1.1 206", "Content-Range: bytes 17-19/20\n", "\nhij"}, nil},
		{"multiple ranges", []string{"-i", "-r", "0-1,10-11", url(s, "/digits.txt")},
			[]string{"HTTP/1.1 206", "multipart/byteranges; boundary=", "Content-Range: bytes 0-1/20", "Content-Range: bytes 10-11/20", "\n01\n", "\nab\n"}, nil},
		{"unsatisfiable range", []string{"-i", "-r", "100-200", url(s, "/digits.txt")},
			[]string{"HTTP/1.1 416", "Content-Range: bytes */20\n"}, nil},
		{"large file range", []string{"-i", "-r", "1000000-1000009", url(s, "/big.bin")},
			[]string{"HTTP/1.1 206", "Content-Range: bytes 1000000-1000009/3158073\n", "Content-Length: 10\n"}, nil},
		{"head", []string{"-I", url(s, "/small.txt")},
			[]string{"HTTP/1.1 200 OK\n", "Content-Length: 17\n", "Content-Type: text/plain; charset=utf-8\n", "Last-Modified: ", "ETag: \""}, []string{"hello small"}},
		{"http/1.0", []string{"-i", "--http1.0", url(s, "/plaintext")},
			[]string{"HTTP/1.1 200 OK\n", "\nHello, World!"}, nil},
		{"expect 100-continue", []string{"-i", "-H", "Expect: 100-continue", "--data-binary", "posted body", url(s, "/echo")},
			[]string{"HTTP/1.1 100 Continue\n", "HTTP/1.1 200 OK\n", "\nposted body"}, nil},
		{"traversal", []string{"-i", "--path-as-is", url(s, "/../secret.txt")},
			[]string{"HTTP/1.1 40"}, []string{"top secret"}},
		{"encoded traversal", []string{"-i", "--path-as-is", url(s, "/%2e%2e/secret.txt")},
			[]string{"HTTP/1.1 40"}, []string{"top secret"}},
		{"symlink out of root", []string{"-i", url(s, "/escape.txt")},
			[]string{"HTTP/1.1 40"}, []string{"top secret"}},
		{"directory index", []string{"-i", url(s, "/sub/")},
			[]string{"HTTP/1.1 200 OK\n", "<h1>sub</h1>"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := curl(t, c.args...)
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range c.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
	// The whole large file through sendfile, byte-exact.
	if out := curl(t, url(s, "/big.bin")); out != string(bigContent) {
		t.Fatalf("big.bin: %d bytes, want %d", len(out), len(bigContent))
	}
	// Conditional request with the ETag curl got.
	head := curl(t, "-I", url(s, "/small.txt"))
	var etag string
	for _, line := range strings.Split(head, "\n") {
		if v, ok := strings.CutPrefix(line, "ETag: "); ok {
			etag = v
		}
	}
	if out := curl(t, "-i", "-H", "If-None-Match: "+etag, url(s, "/small.txt")); !strings.HasPrefix(out, "HTTP/1.1 304") {
		t.Fatalf("If-None-Match: %s", out)
	}
}
