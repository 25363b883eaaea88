package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the processes the tests start: HARNESS_HELPER picks a role.
func TestMain(m *testing.M) {
	switch os.Getenv("HARNESS_HELPER") {
	case "":
		os.Exit(m.Run())
	case "server": // a well-behaved server
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.Exit(3)
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		fmt.Fprintln(os.Stderr, "starting")
		fmt.Printf("helper listening on %s now\n", ln.Addr())
		<-sig
		fmt.Println("stats accepted=0 env=" + os.Getenv("HELPER_ENV"))
		os.Exit(0)
	case "silent": // never says it listens
		time.Sleep(time.Minute)
	case "stubborn": // ignores SIGINT
		signal.Ignore(os.Interrupt)
		fmt.Println("listening on 127.0.0.1:1")
		time.Sleep(time.Minute)
	case "early": // exits before it is ready
		fmt.Fprintln(os.Stderr, "cannot bind")
		os.Exit(4)
	case "failstop": // exits 5 when stopped
		signal.Notify(make(chan os.Signal, 1), os.Interrupt)
		fmt.Println("listening on 127.0.0.1:1")
		time.Sleep(200 * time.Millisecond)
		os.Exit(5)
	case "lines": // for Run
		fmt.Println("noise")
		fmt.Println("result msgs=3")
		fmt.Fprintln(os.Stderr, "some progress")
		if os.Getenv("HELPER_FAIL") != "" {
			os.Exit(1)
		}
	case "sleep":
		time.Sleep(time.Minute)
	}
	os.Exit(0)
}

func helper(role string, env ...string) Spec {
	return Spec{Name: role, Path: os.Args[0], Env: append([]string{"HARNESS_HELPER=" + role}, env...),
		ReadyTimeout: 5 * time.Second}
}

func TestStartStop(t *testing.T) {
	var g Group
	defer g.KillAll()
	s := helper("server", "HELPER_ENV=yes")
	if cpu, err := PinCPU(0); err == nil {
		s.CPU = cpu // exercise taskset too
	}
	p, err := g.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := net.SplitHostPort(p.Addr); err != nil || !p.Alive() || p.Pid() <= 0 {
		t.Fatalf("Addr %q (%v), alive %v, pid %d", p.Addr, err, p.Alive(), p.Pid())
	}
	if _, err := CPUTime(p.Pid(), true); err != nil {
		t.Error(err)
	}
	stats, err := p.Stop(5 * time.Second)
	if err != nil || stats != "stats accepted=0 env=yes" {
		t.Errorf("Stop = %q, %v", stats, err)
	}
	if p.Alive() {
		t.Error("alive after Stop")
	}
	if !strings.Contains(p.Tail(), "starting") {
		t.Errorf("Tail = %q, want the stderr line", p.Tail())
	}
	p.Kill() // again: harmless
}

func TestStartFailures(t *testing.T) {
	var g Group
	defer g.KillAll()
	ctx := context.Background()

	s := helper("silent")
	s.ReadyTimeout = 300 * time.Millisecond
	if _, err := g.Start(ctx, s); err == nil || !strings.Contains(err.Error(), "no \"listening on\"") {
		t.Errorf("silent: %v", err)
	}
	if _, err := g.Start(ctx, helper("early")); err == nil || !strings.Contains(err.Error(), "cannot bind") {
		t.Errorf("early exit: %v", err)
	}
	if _, err := g.Start(ctx, Spec{Name: "missing", Path: "/nonexistent/prog"}); err == nil {
		t.Error("missing program started")
	}
	s = helper("silent")
	s.ReadyDial = "127.0.0.1:1"
	s.ReadyTimeout = 300 * time.Millisecond
	if _, err := g.Start(ctx, s); err == nil || !strings.Contains(err.Error(), "does not accept") {
		t.Errorf("dial: %v", err)
	}
	s = helper("early")
	s.ReadyDial = "127.0.0.1:1"
	if _, err := g.Start(ctx, s); err == nil || !strings.Contains(err.Error(), "exited before accepting") {
		t.Errorf("dial, early exit: %v", err)
	}
}

func TestStopStubbornAndFailing(t *testing.T) {
	var g Group
	defer g.KillAll()
	p, err := g.Start(context.Background(), helper("stubborn"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.Stop(300 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("stubborn Stop: %v", err)
	}
	if p.Alive() || time.Since(start) > 5*time.Second {
		t.Errorf("alive %v after %v", p.Alive(), time.Since(start))
	}
	p, err = g.Start(context.Background(), helper("failstop"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stop(5 * time.Second); err == nil || !strings.Contains(err.Error(), "exit status 5") {
		t.Errorf("failing Stop: %v", err)
	}
}

func TestReadyDialAndKillAll(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var g Group
	s := helper("silent")
	s.ReadyDial = ln.Addr().String()
	p, err := g.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if p.Addr != ln.Addr().String() {
		t.Errorf("Addr = %q", p.Addr)
	}
	g.KillAll()
	if p.Alive() {
		t.Error("alive after KillAll")
	}
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	out, err := Run(ctx, helper("lines"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	line, err := FindLine(out, "result")
	if err != nil || line != "result msgs=3" {
		t.Errorf("FindLine = %q, %v", line, err)
	}
	if _, err := FindLine(out, "stats"); err == nil {
		t.Error("found a stats line")
	}
	_, err = Run(ctx, helper("lines", "HELPER_FAIL=1"), 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "some progress") {
		t.Errorf("failing Run: %v", err)
	}
	start := time.Now()
	_, err = Run(ctx, helper("sleep"), 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "deadline") || time.Since(start) > 5*time.Second {
		t.Errorf("slow Run: %v after %v", err, time.Since(start))
	}
}

func TestLineWriter(t *testing.T) {
	var got []string
	w := &lineWriter{fn: func(s string) { got = append(got, s) }}
	w.Write([]byte("ab"))
	w.Write([]byte("c\r\nd\n\ne"))
	w.Write(make([]byte, 70<<10)) // a runaway line is flushed
	if len(got) != 4 || got[0] != "abc" || got[1] != "d" || got[2] != "" || len(got[3]) != 70<<10+1 {
		t.Errorf("lines = %q", got[:min(len(got), 3)])
	}
}

func TestIndent(t *testing.T) {
	if got := indent(""); got != "    (no output)" {
		t.Errorf("indent empty = %q", got)
	}
	if got := indent("a\nb"); got != "    a\n    b" {
		t.Errorf("indent = %q", got)
	}
	if got := lastLines("1\n2\n3\n", 2); got != "2\n3" {
		t.Errorf("lastLines = %q", got)
	}
}
