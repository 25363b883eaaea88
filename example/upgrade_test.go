package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
)

// TestUpgradeUnderLoad upgrades the demo 4 times while 64 keep-alive
// connections keep it busy for 20 s: no request fails, every response is
// complete, the process changes 4 times, each old process exits, and the
// last one's descriptors come back to where the first one's were.
func TestUpgradeUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s of load (-short)")
	}
	u := startUpgradable(t, "-big-file", "1024", "-ws-grace", "200ms")
	time.Sleep(300 * time.Millisecond) // /healthz's connection closes
	base := fds(t, u.first.Process.Pid)
	stop := make(chan struct{})
	resc := make(chan *loadResult, 1)
	go func() { resc <- keepAliveLoad(u.addr, "/plaintext", 64, stop) }()
	start := time.Now()
	var took []time.Duration
	for i := 0; i < 4; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(2+4*i) * time.Second)))
		old := int(u.pid.Load())
		pid, d := u.upgrade()
		took = append(took, d)
		u.waitExit(old, 30*time.Second)
		t.Logf("upgrade %d: %d -> %d, serving after %v", i+1, old, pid, d.Round(time.Millisecond))
	}
	time.Sleep(time.Until(start.Add(20 * time.Second)))
	close(stop)
	res := <-resc
	t.Logf("%d requests, %d reconnections, p99 %v, failed %d", res.ok, res.reconnects, res.p99(), res.failed)
	if res.failed != 0 {
		t.Errorf("%d requests failed; first: %q", res.failed, res.errs)
	}
	if res.ok == 0 || res.reconnects < 64 {
		t.Errorf("%d requests on %d reconnections: the load did not run through the upgrades", res.ok, res.reconnects)
	}
	seen := map[int]bool{}
	for _, p := range u.pids {
		seen[p] = true
	}
	if len(u.pids) != 5 || len(seen) != 5 {
		t.Errorf("processes %v: want 5 different ones", u.pids)
	}
	last := int(u.pid.Load())
	var n int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n = fds(t, last); n <= base || time.Now().After(deadline) {
			break
		}
	}
	if n != base {
		t.Errorf("the last process has %d descriptors open, the first had %d", n, base)
	}
}

// TestUpgradeFailedSuccessor: a successor that exits at once, and one
// that never becomes ready, leave the old process serving with no failed
// request; a SIGHUP during the second is ignored; neither leaves a process
// behind.
func TestUpgradeFailedSuccessor(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the successor scripts:", err)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name, script, want string
	}{
		{"exits", "#!/bin/sh\nexit 7\n", "exited before it was ready: exit status 7"},
		{"never ready", "#!/bin/sh\nexec sleep 600\n", "not ready in time"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(bin, []byte(tt.script), 0o755); err != nil {
				t.Fatal(err)
			}
			u := startUpgradable(t, "-big-file", "1024", "-upgrade-binary", bin, "-upgrade-timeout", "1s")
			pid := int(u.pid.Load())
			stop := make(chan struct{})
			resc := make(chan *loadResult, 1)
			go func() { resc <- keepAliveLoad(u.addr, "/plaintext", 8, stop) }()
			time.Sleep(200 * time.Millisecond)
			syscall.Kill(pid, syscall.SIGHUP)
			if tt.name == "never ready" {
				// The successor runs (and the check below would see it).
				for deadline := time.Now().Add(5 * time.Second); len(children(pid)) == 0; time.Sleep(5 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("no successor process seen")
					}
				}
			} else {
				time.Sleep(100 * time.Millisecond)
			}
			syscall.Kill(pid, syscall.SIGHUP) // during the upgrade, or after a quick failure
			waitLog(t, u, "upgrade failed")
			time.Sleep(300 * time.Millisecond)
			close(stop)
			res := <-resc
			if !strings.Contains(u.stderr.String(), tt.want) {
				t.Errorf("the log does not say %q", tt.want)
			}
			if tt.name == "never ready" && !strings.Contains(u.stderr.String(), "SIGHUP ignored") {
				t.Errorf("the second SIGHUP was not reported as ignored")
			}
			if got := u.health(); got != pid {
				t.Errorf("served by %d, want %d still", got, pid)
			}
			if res.failed != 0 || res.ok == 0 {
				t.Errorf("%d requests, %d failed: %q", res.ok, res.failed, res.errs)
			}
			for deadline := time.Now().Add(5 * time.Second); len(children(pid)) > 0; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("process %d still has children %v", pid, children(pid))
				}
			}
		})
	}
}

// waitLog waits for the demo's log to contain s.
func waitLog(t *testing.T, u *upgraded, s string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(u.stderr.String(), s); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q", s)
		}
	}
}

// TestUpgradeLongDownload: a download that takes 30 s, started before an
// upgrade, completes byte for byte from the old process, which exits
// after it.
func TestUpgradeLongDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s download (-short)")
	}
	const size = 30 << 20
	u := startUpgradable(t, "-big-file", fmt.Sprint(size), "-drain-timeout", "90s")
	old := int(u.pid.Load())
	resp, err := nethttp.Get("http://" + u.addr + "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := sha256.New()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		// 1 MiB/s: 30 s for the file.
		buf := make([]byte, 32<<10)
		var n int64
		for {
			k, err := resp.Body.Read(buf)
			got.Write(buf[:k])
			n += int64(k)
			if errors.Is(err, io.EOF) {
				if n != size {
					err = fmt.Errorf("%d bytes, want %d", n, size)
				} else {
					err = nil
				}
				done <- err
				return
			}
			if err != nil {
				done <- err
				return
			}
			time.Sleep(time.Until(start.Add(time.Duration(n) * time.Second / (1 << 20))))
		}
	}()
	time.Sleep(2 * time.Second)
	// A keep-alive connection to the old process: its /readyz turns 503
	// (with Connection: close) once the drain starts. It asks every 50 ms,
	// well within DrainIdleTimeout (idle longer, it would be closed).
	kc, err := net.Dial("tcp", u.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	br := bufio.NewReader(kc)
	readyz := func() (int, string, error) {
		kc.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(kc, "GET /readyz HTTP/1.1\r\nHost: test\r\n\r\n")
		resp, err := nethttp.ReadResponse(br, nil)
		if err != nil {
			return 0, "", fmt.Errorf("/readyz on the old process's connection: %w", err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.Close {
			return resp.StatusCode, "close " + string(body), nil
		}
		return resp.StatusCode, string(body), nil
	}
	if code, body, err := readyz(); err != nil || code != 200 {
		t.Fatalf("/readyz before the upgrade: %d %s %v", code, body, err)
	}
	draining := make(chan error, 1)
	go func() {
		for {
			code, body, err := readyz()
			switch {
			case err != nil:
				draining <- err
				return
			case code == 200: // the drain has not begun
				time.Sleep(50 * time.Millisecond)
				continue
			}
			// 503 at once; Connection: close once the drain's spread
			// (the demo's -drain-spread) reaches this connection.
			want := fmt.Sprintf(`{"status":"draining","pid":%d}`, old)
			if code == 503 && body == want {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			if code != 503 || body != "close "+want {
				err = fmt.Errorf("/readyz while draining: %d %q, want 503 %q (and then with Connection: close)", code, body, want)
			}
			draining <- err
			return
		}
	}()
	pid, _ := u.upgrade()
	if err := <-draining; err != nil {
		t.Error(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("download: %v", err)
	}
	t.Logf("downloaded in %v across the upgrade %d -> %d", time.Since(start).Round(time.Millisecond), old, pid)
	path := filepath.Join(t.TempDir(), "big.bin")
	if err := writeBigFile(path, size); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(want); !bytes.Equal(got.Sum(nil), sum[:]) {
		t.Fatal("the download differs from big.bin")
	}
	u.waitExit(old, 30*time.Second)
}

// TestUpgradeWebSocket: a gorilla client gets 1001 (going away) from the
// old process after the grace period, reconnects to the new one and
// carries on.
func TestUpgradeWebSocket(t *testing.T) {
	u := startUpgradable(t, "-big-file", "1024", "-ws-grace", "300ms")
	dial := func() *gorilla.Conn {
		c, _, err := gorilla.DefaultDialer.Dial("ws://"+u.addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	echo := func(c *gorilla.Conn, msg string) error {
		if err := c.WriteMessage(gorilla.TextMessage, []byte(msg)); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, got, err := c.ReadMessage()
		if err == nil && string(got) != msg {
			err = fmt.Errorf("echo %q, want %q", got, msg)
		}
		return err
	}
	c := dial()
	defer c.Close()
	if err := echo(c, "before"); err != nil {
		t.Fatal(err)
	}
	old := int(u.pid.Load())
	pid, _ := u.upgrade()
	// The old process still talks until the grace period ends.
	var err error
	for i := 0; err == nil; i++ {
		err = echo(c, fmt.Sprint("during ", i))
		time.Sleep(20 * time.Millisecond)
	}
	if !gorilla.IsCloseError(err, gorilla.CloseGoingAway) {
		t.Fatalf("the old connection ended with %v, want a 1001 close", err)
	}
	c2 := dial()
	defer c2.Close()
	for i := 0; i < 10; i++ {
		if err := echo(c2, fmt.Sprint("after ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := u.health(); got != pid || pid == old {
		t.Errorf("served by %d after reconnecting; old %d, new %d", got, old, pid)
	}
	u.waitExit(old, 30*time.Second)
}

// TestDemoSocketActivation runs the demo under systemd-socket-activate with
// two listening sockets: it serves on both without binding -addr, and
// hands both to its successor on SIGHUP.
func TestDemoSocketActivation(t *testing.T) {
	bin := "/usr/bin/systemd-socket-activate"
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("systemd-socket-activate"); err != nil {
			t.Skip("systemd-socket-activate not found (Debian: apt-get install systemd)")
		}
	}
	a1, a2 := freeAddr(t), freeAddr(t)
	for a2 == a1 {
		a2 = freeAddr(t)
	}
	test, targs, env := childCommand([]string{"-addr", "127.0.0.1:0", "-access-log=false", "-log-level", "info", "-loops", "2", "-big-file", "1024"})
	cmd := exec.Command(bin, append([]string{"-l", a1, "-l", a2, "-E", env, test}, targs...)...)
	u := launch(t, cmd)
	u.addr = a1 // systemd-socket-activate starts the demo at the first connection
	u.adopt()
	if got := healthOf(t, a2, nil); got != u.first.Process.Pid {
		t.Errorf("%s served by %d, want %d", a2, got, u.first.Process.Pid)
	}
	// The demo logs where its sockets came from once it serves; /healthz
	// can answer a moment before the line is written.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(u.stderr.String(), "listeners=\"from systemd\""); {
		if time.Now().After(deadline) {
			t.Errorf("the demo does not say it took systemd's sockets")
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	old := int(u.pid.Load())
	pid, _ := u.upgrade()
	// Until its drain begins the old process still accepts on the shared
	// sockets: both addresses are checked once it has exited.
	u.waitExit(old, 30*time.Second)
	for _, a := range []string{a1, a2} {
		if got := healthOf(t, a, nil); got != pid {
			t.Errorf("after the upgrade %s is served by %d, want %d", a, got, pid)
		}
	}
}

// freeAddr returns a loopback address whose port was free a moment ago
// (systemd-socket-activate does not take port 0).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestUpgradeModes upgrades the demo once under load in its other modes:
// net/http handlers on the adapter (-stdlib), and HTTPS (the successor
// reads the certificate files again: an upgrade also rotates them).
func TestUpgradeModes(t *testing.T) {
	pki := newTestPKI(t)
	for _, tt := range []struct {
		name  string
		flags []string
		tls   bool
	}{
		{"stdlib", []string{"-stdlib"}, false},
		{"tls", []string{"-tls-cert", pki.certFile, "-tls-key", pki.keyFile}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var tc *tls.Config
			if tt.tls {
				tc = pki.clientTLS()
				tc.NextProtos = nil
			}
			u := startUpgradableTLS(t, tc, append([]string{"-big-file", "1024", "-ws-grace", "100ms"}, tt.flags...)...)
			stop := make(chan struct{})
			resc := make(chan *loadResult, 1)
			go func() { resc <- keepAliveLoadTLS(u.addr, u.tls, "/plaintext", 16, stop) }()
			time.Sleep(500 * time.Millisecond)
			old := int(u.pid.Load())
			pid, d := u.upgrade()
			time.Sleep(500 * time.Millisecond)
			close(stop)
			res := <-resc
			t.Logf("%d -> %d after %v; %d requests, %d reconnections, %d failed", old, pid, d.Round(time.Millisecond), res.ok, res.reconnects, res.failed)
			if res.failed != 0 || res.ok == 0 {
				t.Errorf("%d requests, %d failed: %q", res.ok, res.failed, res.errs)
			}
			u.waitExit(old, 30*time.Second)
		})
	}
}
