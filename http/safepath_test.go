package http

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		raw    string
		want   string
		status int
	}{
		{"/", "/", 0},
		{"/index.html", "/index.html", 0},
		{"/a/b/c.txt", "/a/b/c.txt", 0},
		{"//a///b", "/a/b", 0},
		{"/a/./b", "/a/b", 0},
		{"/a/b/", "/a/b/", 0},
		{"/a/b/.", "/a/b/", 0},
		{"/./", "/", 0},
		{"/a%20b", "/a b", 0},
		{"/a%2Fb", "/a/b", 0}, // decoded slash separates segments
		{"/a%2fb%2F", "/a/b/", 0},
		{"/%7Euser", "/~user", 0},
		{"/a+b", "/a+b", 0},
		{"/f.txt?x=1", "/f.txt", 0},
		{"/f.txt?../..", "/f.txt", 0},
		{"/f.txt#frag", "/f.txt", 0},
		{"/%2e", "/", 0},
		{"/.%2e.", "/...", 0}, // three dots is an ordinary name
		{"/..a", "/..a", 0},
		{"/a..", "/a..", 0},
		{"/%C3%A9", "/\u00e9", 0},

		{"/..", "", 403},
		{"/../etc/passwd", "", 403},
		{"/a/../b", "", 403},
		{"/a/..", "", 403},
		{"/%2e%2e", "", 403},
		{"/%2E%2e/", "", 403},
		{"/%2E%2E%2Fetc%2Fpasswd", "", 403},
		{"/..%2f..%2fetc/passwd", "", 403},
		{"/a%2F..%2Fb", "", 403},
		{"/.%2e/x", "", 403},
		{"/%2e./x", "", 403},

		{"", "", 400},
		{"a/b", "", 400},
		{"?x", "", 400},
		{"%2Fa", "", 400},
		{"/%", "", 400},
		{"/%2", "", 400},
		{"/a%", "", 400},
		{"/%zz", "", 400},
		{"/%2g", "", 400},
		{"/a%00b", "", 400},
		{"/a\x00b", "", 400},
		{"/%00", "", 400},
	}
	for _, tt := range tests {
		got, err := cleanPath([]byte(tt.raw))
		if tt.status == 0 {
			if err != nil || got != tt.want {
				t.Errorf("cleanPath(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
			continue
		}
		var pe *pathError
		if !errors.As(err, &pe) || pe.Status != tt.status || got != "" {
			t.Errorf("cleanPath(%q) = %q, %v; want status %d", tt.raw, got, err, tt.status)
		}
	}
}

// serveTree builds:
//
//	outside/secret.txt
//	root/index.html, root/f.txt, root/empty/, root/docs/index.html,
//	root/docs/page.md, root/in -> f.txt, root/indir -> docs,
//	root/abs -> <outside>/secret.txt, root/rel -> ../outside/secret.txt,
//	root/deep -> ../../etc/passwd, root/fifo, root/idxdir/index.html/ (a dir)
func serveTree(t *testing.T) (*os.Root, string) {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, root + "/empty", root + "/docs", root + "/idxdir/index.html"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		outside + "/secret.txt":   "secret",
		root + "/index.html":      "home",
		root + "/f.txt":           "file",
		root + "/docs/index.html": "docs",
		root + "/docs/page.md":    "# page",
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"in":    "f.txt",
		"indir": "docs",
		"abs":   outside + "/secret.txt",
		"rel":   "../outside/secret.txt",
		"deep":  "../../etc/passwd",
		"absin": root + "/f.txt",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, root
}

func TestOpenUnder(t *testing.T) {
	r, _ := serveTree(t)
	tests := []struct {
		clean     string
		wantName  string
		wantBody  string
		wantState int
	}{
		{"/", "/index.html", "home", 0},
		{"/index.html", "/index.html", "home", 0},
		{"/f.txt", "/f.txt", "file", 0},
		{"/docs", "/docs/index.html", "docs", 0},
		{"/docs/", "/docs/index.html", "docs", 0},
		{"/docs/page.md", "/docs/page.md", "# page", 0},
		{"/in", "/in", "file", 0},                         // symlink inside the root
		{"/indir/page.md", "/indir/page.md", "# page", 0}, // through a directory symlink
		{"/indir/", "/indir/index.html", "docs", 0},

		{"/missing", "", "", 404},
		{"/docs/missing.html", "", "", 404},
		{"/f.txt/", "", "", 404},
		{"/f.txt/x", "", "", 404},
		{"/empty", "", "", 404}, // directory without index.html
		{"/empty/", "", "", 404},
		{"/idxdir/", "", "", 403}, // index.html is itself a directory
		{"/abs", "", "", 403},     // absolute symlink out of the root
		{"/absin", "", "", 403},   // os.Root refuses absolute targets altogether
		{"/rel", "", "", 403},     // relative symlink out of the root
		{"/deep", "", "", 403},    // ../../etc/passwd
		{"/../outside/secret.txt", "", "", 403},
		{"/fifo", "", "", 403}, // must not block in open(2)
	}
	for _, tt := range tests {
		f, fi, name, err := openUnder(r, tt.clean)
		if tt.wantState != 0 {
			var pe *pathError
			if !errors.As(err, &pe) || pe.Status != tt.wantState || f != nil {
				t.Errorf("openUnder(%q) = %v, %q, %v; want status %d", tt.clean, f, name, err, tt.wantState)
			}
			if f != nil {
				f.Close()
			}
			continue
		}
		if err != nil {
			t.Errorf("openUnder(%q): %v", tt.clean, err)
			continue
		}
		body, rerr := io.ReadAll(f)
		flags, ferr := fcntlFlags(f)
		f.Close()
		if rerr != nil || string(body) != tt.wantBody || name != tt.wantName || !fi.Mode().IsRegular() || fi.Size() != int64(len(body)) {
			t.Errorf("openUnder(%q) = %q (%v) named %q, size %d; want %q named %q", tt.clean, body, rerr, name, fi.Size(), tt.wantBody, tt.wantName)
		}
		if ferr != nil || flags&syscall.O_NONBLOCK != 0 {
			t.Errorf("openUnder(%q): flags %#x, %v: O_NONBLOCK still set", tt.clean, flags, ferr)
		}
	}
}

func fcntlFlags(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var flags int
	var ferr error
	err = rc.Control(func(fd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		flags = int(r)
		if e != 0 {
			ferr = e
		}
	})
	if err != nil {
		return 0, err
	}
	return flags, ferr
}

func TestCleanThenOpen(t *testing.T) {
	r, _ := serveTree(t)
	for _, raw := range []string{"/..", "/%2e%2e/outside/secret.txt", "/%2E%2E%2Foutside%2Fsecret.txt", "/..%2foutside/secret.txt", "/f.txt%00.html"} {
		clean, err := cleanPath([]byte(raw))
		if err == nil {
			f, _, _, oerr := openUnder(r, clean)
			if oerr == nil {
				f.Close()
				t.Errorf("%q: cleaned to %q and opened", raw, clean)
			}
		}
	}
	clean, err := cleanPath([]byte("/docs/%70age.md?download=1"))
	if err != nil {
		t.Fatal(err)
	}
	f, _, name, err := openUnder(r, clean)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if name != "/docs/page.md" || mimeType(name) != "text/markdown; charset=utf-8" {
		t.Fatalf("name %q, type %q", name, mimeType(name))
	}
}

func TestPathErrorStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{os.ErrNotExist, 404},
		{&os.PathError{Op: "openat", Path: "x", Err: syscall.ENOTDIR}, 404},
		{syscall.ENAMETOOLONG, 404},
		{&os.PathError{Op: "openat", Path: "x", Err: syscall.EMFILE}, 503},
		{syscall.ENFILE, 503},
		{syscall.EIO, 500},
		{os.ErrPermission, 403},
		{syscall.ELOOP, 403},
		{errors.New("path escapes from parent"), 403},
	}
	for _, tt := range tests {
		if got := openErrorStatus(tt.err); got != tt.want {
			t.Errorf("openErrorStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	pe := &pathError{Status: 404, Path: "/x", Err: os.ErrNotExist}
	if !errors.Is(pe, os.ErrNotExist) || pe.Error() == "" {
		t.Errorf("pathError does not unwrap or print: %v", pe)
	}
}

// FuzzCleanPath checks that whatever cleanPath accepts is absolute, has no
// empty, "." or ".." segment and no NUL, and is stable under cleaning again.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/a/b/", "/%2e%2e/x", "/a%2Fb", "/..%2f", "/%00", "/a?b#c", "//./a/.", "/%", "/%C3%A9"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		clean, err := cleanPath(raw)
		if err != nil {
			var pe *pathError
			if !errors.As(err, &pe) || (pe.Status != 400 && pe.Status != 403) || clean != "" {
				t.Fatalf("cleanPath(%q) = %q, %v", raw, clean, err)
			}
			return
		}
		if clean[0] != '/' || strings.IndexByte(clean, 0) >= 0 {
			t.Fatalf("cleanPath(%q) = %q", raw, clean)
		}
		if clean == "/" {
			return
		}
		for _, seg := range strings.Split(strings.TrimSuffix(clean[1:], "/"), "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("cleanPath(%q) = %q: segment %q", raw, clean, seg)
			}
		}
		if !strings.ContainsAny(clean, "%?#") {
			if again, err := cleanPath([]byte(clean)); err != nil || again != clean {
				t.Fatalf("cleanPath(%q) = %q, but cleanPath(%q) = %q, %v", raw, clean, clean, again, err)
			}
		}
	})
}
