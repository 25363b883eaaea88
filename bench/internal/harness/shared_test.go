package harness

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFloor(t *testing.T) {
	floor := func(v, limit float64, atLeast, zeroUnknown bool, want string) {
		t.Helper()
		if got := Floor(v, limit, atLeast, zeroUnknown, "PASS", "FAIL"); got != want {
			t.Errorf("Floor(%v, %v, %v, %v) = %s, want %s", v, limit, atLeast, zeroUnknown, got, want)
		}
	}
	floor(1.6, 1.5, true, true, "PASS")
	floor(1.4, 1.5, true, true, "FAIL")
	floor(0, 1.5, true, true, NA) // nothing measured
	floor(0, 1.5, true, false, "FAIL")
	floor(7, 8, false, true, "PASS")
	floor(9, 8, false, true, "FAIL")
	floor(0, 8, false, true, "PASS") // a ceiling: 0 is a measure
	floor(math.NaN(), 8, false, false, NA)
	floor(math.Inf(1), 1, true, false, NA)
	floor(-1, 8, false, false, NA)
}

func TestMedianOfAndText(t *testing.T) {
	type s struct{ x float64 }
	if m := MedianOf([]s{{3}, {1}, {math.NaN()}, {2}}, func(v s) float64 { return v.x }); m != 2 {
		t.Errorf("MedianOf = %v", m)
	}
	if FirstLine("a\nb") != "a" || FirstLine("a") != "a" || OrAny("") != "any (unpinned)" || OrAny("0") != "0" {
		t.Error("FirstLine or OrAny")
	}
	if r, err := RepoRoot("/x"); r != "/x" || err != nil {
		t.Errorf("RepoRoot(/x) = %q, %v", r, err)
	}
}

func TestIdleTable(t *testing.T) {
	ok := IdleResult{Before: 10 << 20, After: 12 << 20}
	if kib := ok.PerConnKiB(1024); kib != 2 {
		t.Errorf("PerConnKiB = %v", kib)
	}
	if !math.IsNaN((IdleResult{Err: errors.New("x")}).PerConnKiB(1)) || !math.IsNaN(ok.PerConnKiB(0)) {
		t.Error("PerConnKiB of a failure or of no connections is a number")
	}
	res := map[string]IdleResult{"a": ok, "b": {Err: errors.New("x")}}
	md := IdleTable("idle h2c conns", 1024, []string{"a", "c", "b"}, func(k string) (string, string) { return k, k }, res).Markdown()
	for _, want := range []string{"idle h2c conns", "a  ", "10.0 ", "12.0 ", "2.00 ", "b (failed, see below) | 1024"} {
		if !strings.Contains(strings.Join(strings.Fields(md), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
}

func TestIdleTableSkipsUnmeasured(t *testing.T) {
	md := IdleTable("idle conns", 1, []string{"a", "c"}, func(k string) (string, string) { return k, "server " + k },
		map[string]IdleResult{"a": {}}).Markdown()
	if !strings.Contains(md, "server a") || strings.Contains(md, "server c") {
		t.Errorf("rows:\n%s", md)
	}
}

func TestMeasureDuring(t *testing.T) {
	ran := false
	u, err := MeasureDuring(os.Getpid(), false, func() error {
		ran = true
		for i := 0; i < 1e6; i++ {
			_ = math.Sqrt(float64(i))
		}
		return nil
	})
	if err != nil || !ran || u.CPU < 0 || u.RSS <= 0 || u.CtxSwitches < 0 {
		t.Fatalf("MeasureDuring = %+v, %v", u, err)
	}
	if _, err := MeasureDuring(os.Getpid(), false, func() error { return errors.New("load failed") }); err == nil {
		t.Error("the load's error was lost")
	}
	u = Usage{CPU: 2000000, CtxSwitches: 10, RSS: 3 << 20}
	if u.CPUUsPer(4) != 500 || u.CPUPct(4000000) != 50 || u.CtxSwitchesPer(5) != 2 || u.RSSMiB() != 3 {
		t.Errorf("Usage's figures: %v %v %v %v", u.CPUUsPer(4), u.CPUPct(4000000), u.CtxSwitchesPer(5), u.RSSMiB())
	}
}

func TestServers(t *testing.T) {
	tmp := t.TempDir()
	at := NginxServer("/usr/sbin/nginx", tmp, "nginx-tls", "0", func(dir, addr string) string { return dir + " " + addr })
	for i := 1; i <= 2; i++ {
		s, err := at("127.0.0.1:1")
		dir := filepath.Join(tmp, "nginx-tls-"+string(rune('0'+i)))
		if err != nil || s.ReadyDial != "127.0.0.1:1" || s.CPU != "0" || s.Path != "/usr/sbin/nginx" {
			t.Fatalf("spec %+v, %v", s, err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "nginx.conf")); err != nil || string(b) != dir+" 127.0.0.1:1" {
			t.Errorf("config %q, %v", b, err)
		}
	}
	built := map[string]error{"/bin/x": nil, "/bin/y": errors.New("no")}
	at, err := GoServer(t.Context(), built, ".", "./x", "/bin/x", "1", "/www", []string{"A=1"}, []string{"-h2c"})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := at("a:1")
	if s.Path != "/bin/x" || strings.Join(s.Env, " ") != "GOMAXPROCS=1 A=1" || strings.Join(s.Args, " ") != "-addr a:1 -root /www -h2c" {
		t.Errorf("spec %+v", s)
	}
	if _, err := GoServer(t.Context(), built, ".", "./y", "/bin/y", "1", "/www", nil, nil); err == nil {
		t.Error("a failed build passed")
	}
}

func TestFindToolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := FindTool("h2load", "nghttp2-client", false, t.Logf)
	if err == nil || err.Error() != "h2load not found (apt-get install nghttp2-client, or drop -install=false)" {
		t.Errorf("FindTool: %v", err)
	}
}
