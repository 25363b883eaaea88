package harness

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindRepoRoot(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module "+RootModule+"\n\ngo 1.26\n")
	writeFile(t, filepath.Join(dir, "bench", "go.mod"), "// nested\nmodule \""+RootModule+"/bench\"\n")
	deep := filepath.Join(dir, "bench", "cmd", "x")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, start := range []string{dir, filepath.Join(dir, "bench"), deep} {
		got, err := FindRepoRoot(start)
		if err != nil || got != dir {
			t.Errorf("FindRepoRoot(%s) = %q, %v; want %q", start, got, err, dir)
		}
	}
	if got := moduleOf(filepath.Join(dir, "bench")); got != RootModule+"/bench" {
		t.Errorf("moduleOf(bench) = %q", got)
	}
	if _, err := FindRepoRoot(t.TempDir()); err == nil {
		t.Error("FindRepoRoot found a root in an empty directory")
	}
}

func TestGoBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/x\n\ngo 1.21\n")
	writeFile(t, filepath.Join(dir, "ok", "main.go"), "package main\n\nfunc main() {}\n")
	writeFile(t, filepath.Join(dir, "bad", "main.go"), "package main\n\nfunc main() { undefinedThing() }\n")
	out := filepath.Join(dir, "ok.bin")
	if err := GoBuild(context.Background(), dir, "./ok", out, "CGO_ENABLED=0"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		t.Errorf("built binary: %v", err)
	}
	err := GoBuild(context.Background(), dir, "./bad", filepath.Join(dir, "bad.bin"))
	if err == nil || !strings.Contains(err.Error(), "undefinedThing") {
		t.Errorf("bad build: %v", err)
	}
}

func TestPinCPUAndPorts(t *testing.T) {
	if _, err := PinCPU(1 << 20); err == nil {
		t.Error("PinCPU of a CPU that does not exist succeeded")
	}
	if cpu, err := PinCPU(0); err == nil && cpu != "0" {
		t.Errorf("PinCPU(0) = %q", cpu)
	}
	addr, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("FreePort %s not free: %v", addr, err)
	}
	ln.Close()
}

func TestRaiseNoFile(t *testing.T) {
	got, err := RaiseNoFile(64)
	if err != nil || got < 64 {
		t.Errorf("RaiseNoFile(64) = %d, %v", got, err)
	}
	if got, err := RaiseNoFile(1 << 40); err == nil {
		t.Errorf("RaiseNoFile(2^40) = %d, no error", got)
	}
}

func TestReport(t *testing.T) {
	tests := []struct{ in, want string }{
		{"-duration", "-duration"},
		{"1s", "1s"},
		{"a b", "'a b'"},
		{"", "''"},
		{"it's", `'it'\''s'`},
		{"/tmp/x.md", "/tmp/x.md"},
	}
	for _, tt := range tests {
		if got := ShellQuote(tt.in); got != tt.want {
			t.Errorf("ShellQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := CommandLine("echobench", []string{"-o", "a b"}); got != "go run ./cmd/echobench -o 'a b'" {
		t.Errorf("CommandLine = %q", got)
	}
	h := Header("T", "cmd")
	if !strings.HasPrefix(h, "## T\n") || !strings.Contains(h, "Linux ") || !strings.Contains(h, "`cmd`") {
		t.Errorf("Header = %q", h)
	}
	path := filepath.Join(t.TempDir(), "r.md")
	if err := WriteReport("x\n", path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "x\n" {
		t.Errorf("report file = %q", b)
	}
	if err := WriteReport("", filepath.Join(path, "no", "dir")); err == nil {
		t.Error("WriteReport into a missing directory succeeded")
	}
	if err := WriteReport("", ""); err != nil {
		t.Error(err)
	}
}
