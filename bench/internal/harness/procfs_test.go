package harness

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

const sampleStat = "1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 555 1000000 200 18446744073709551615"

func TestParseProcStat(t *testing.T) {
	st, err := ParseProcStat(sampleStat)
	if err != nil {
		t.Fatal(err)
	}
	if st != (ProcStat{PPID: 1, UTime: 250, STime: 75}) {
		t.Errorf("ParseProcStat = %+v", st)
	}
	bad := []string{
		"",
		"1 (x S 1 2",
		"1 (x) S 1 2 3",
		"1 (x) S p 1 1 0 -1 0 0 0 0 0 250 75",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 u 75",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 250 -5",
	}
	for _, s := range bad {
		if _, err := ParseProcStat(s); err == nil {
			t.Errorf("ParseProcStat(%q) succeeded", s)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"Name:\tx\nVmPeak:\t  100 kB\nVmRSS:\t    5120 kB\nThreads: 3\n", 5120 << 10, true},
		{"VmRSS: 0 kB", 0, true},
		{"Name: x\n", 0, false},
		{"VmRSS: 12 MB\n", 0, false},
		{"VmRSS: x kB\n", 0, false},
		{"VmRSS: -1 kB\n", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseVmRSS(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseVmRSS(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestSelfCPUAndRSS(t *testing.T) {
	// Burn a little CPU so the tick counter moves.
	x := 0
	for i := range 50_000_000 {
		x += i ^ x
	}
	_ = x
	cpu, err := CPUTime(os.Getpid(), true)
	if err != nil || cpu <= 0 {
		t.Errorf("CPUTime(self) = %v, %v", cpu, err)
	}
	rss, err := RSS(os.Getpid(), true)
	if err != nil || rss < 1<<20 {
		t.Errorf("RSS(self) = %d, %v", rss, err)
	}
	if _, err := CPUTime(1<<30, false); err == nil {
		t.Error("CPUTime of a missing pid succeeded")
	}
	if _, err := RSS(1<<30, false); err == nil {
		t.Error("RSS of a missing pid succeeded")
	}
}

func TestChildren(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	kids, err := Children(os.Getpid())
	if err != nil || !slices.Contains(kids, cmd.Process.Pid) {
		t.Errorf("Children(self) = %v, %v; want %d among them", kids, err, cmd.Process.Pid)
	}
}

func TestOnlineCPUs(t *testing.T) {
	if n := OnlineCPUs(); n < 1 {
		t.Errorf("OnlineCPUs = %d", n)
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add(sampleStat)
	f.Add("1 (a) R 0 0 0 0 0 0 0 0 0 0 1 2")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseProcStat(s)
		if err == nil && !strings.Contains(s, ")") {
			t.Fatalf("ParseProcStat(%q) = %+v without a ')'", s, st)
		}
	})
}

func FuzzParseVmRSS(f *testing.F) {
	f.Add("VmRSS:\t    5120 kB\n")
	f.Add("Name: x\nVmRSS: 1 kB")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseVmRSS(s)
		if err == nil && (n < 0 || n%1024 != 0) {
			t.Fatalf("ParseVmRSS(%q) = %d", s, n)
		}
	})
}

func TestCtxSwitches(t *testing.T) {
	n, err := ParseCtxSwitches("Name:\tx\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t5\n")
	if err != nil || n != 12 {
		t.Errorf("ParseCtxSwitches = %d, %v", n, err)
	}
	if _, err := ParseCtxSwitches("Name:\tx\n"); err == nil {
		t.Error("no lines accepted")
	}
	if _, err := ParseCtxSwitches("voluntary_ctxt_switches:\tx\nnonvoluntary_ctxt_switches:\t5\n"); err == nil {
		t.Error("bad number accepted")
	}
	a, err := CtxSwitches(os.Getpid(), true)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // at least one voluntary switch of this thread
	b, err := CtxSwitches(os.Getpid(), false)
	if err != nil || b <= a {
		t.Errorf("CtxSwitches %d then %d, %v", a, b, err)
	}
	if _, err := CtxSwitches(1<<30, false); err == nil {
		t.Error("no such process: no error")
	}
}
