package netserver

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// listenerFile makes a listening socket with the net package and returns
// its file (the listener itself is closed: the file keeps the socket).
func listenerFile(t *testing.T, addr string) (*os.File, string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, ln.Addr().String()
}

// echoOnce sends a line on a new connection to addr and reads it back.
func echoOnce(addr, msg string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\n", msg); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if got != msg+"\n" {
		return fmt.Errorf("echo: got %q, want %q", got, msg)
	}
	return nil
}

func TestInheritedListeners(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		f1, a1 := listenerFile(t, "127.0.0.1:0")
		f2, a2 := listenerFile(t, "127.0.0.1:0")
		tests := []struct {
			name  string
			addrs []string
			files []*os.File
			loops int
			want  []string // Addrs, "" for a port the kernel picks
		}{
			{"only inherited", nil, []*os.File{f1, f2}, 2, []string{a1, a2}},
			{"port 0 entry covered", []string{"127.0.0.1:0"}, []*os.File{f1}, 2, []string{a1}},
			{"exact entry covered, order kept", []string{a2, a1}, []*os.File{f1, f2}, 3, []string{a2, a1}},
			{"uncovered entry bound", []string{"127.0.0.2:0"}, []*os.File{f1}, 1, []string{a1, ""}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				fds := countFDs(t)
				h := &echoHandler{}
				s := startOn(t, kind, Config{Addrs: tt.addrs, Listeners: tt.files, Loops: tt.loops}, h)
				if len(s.Addrs()) != len(tt.want) {
					t.Fatalf("Addrs = %v, want %v", s.Addrs(), tt.want)
				}
				for i, w := range tt.want {
					got := s.Addrs()[i].String()
					if w != "" && got != w {
						t.Errorf("Addrs[%d] = %s, want %s", i, got, w)
					}
					for j := 0; j < 4; j++ { // several, so that every loop's accept is likely used
						if err := echoOnce(got, "hello"); err != nil {
							t.Fatalf("%s: %v", got, err)
						}
					}
				}
				files, err := s.ListenerFiles()
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, f := range files {
					names = append(names, f.Name())
					f.Close()
				}
				if len(files) < len(tt.files) || !strings.HasPrefix(names[0], "tcp:") {
					t.Errorf("ListenerFiles = %v", names)
				}
				if err := s.StopAccepting(); err != nil {
					t.Fatal(err)
				}
				if _, err := s.ListenerFiles(); !errors.Is(err, ErrNotServing) {
					t.Errorf("ListenerFiles after StopAccepting: %v, want ErrNotServing", err)
				}
				s.Close()
				if got := countFDs(t); got != fds {
					t.Errorf("fds: %d after Close, %d before", got, fds)
				}
			})
		}
	})
}

func TestInheritedListenersRefused(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	uf, err := udp.(*net.UDPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer uf.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	unixLn, err := net.Listen("unix", t.TempDir()+"/sock")
	if err != nil {
		t.Fatal(err)
	}
	defer unixLn.Close()
	unf, err := unixLn.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer unf.Close()
	good, _ := listenerFile(t, "127.0.0.1:0")
	fds := countFDs(t)
	for _, tt := range []struct {
		name  string
		files []*os.File
		want  string
	}{
		{"udp", []*os.File{uf}, "not a listening stream socket"},
		{"pipe", []*os.File{r}, "not a socket"},
		{"unix", []*os.File{unf}, "not a TCP socket"},
		{"nil", []*os.File{nil}, "nil file"},
		{"good then bad", []*os.File{good, r}, "not a socket"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Listeners: tt.files, Logger: testLogger(t)}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error with %q", err, tt.want)
			}
		})
	}
	if got := countFDs(t); got != fds {
		t.Errorf("fds: %d after, %d before", got, fds)
	}
}

// TestHandover hands a serving server's sockets to a second server (as an
// upgrade does between processes) while clients connect without pause:
// every connection is served, by one or the other, and none fails.
func TestHandover(t *testing.T) {
	onBackends(t, func(t *testing.T, kind string) {
		old := startOn(t, kind, Config{Loops: 2}, &echoHandler{})
		addr := old.Addr().String()
		var ok, failed atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if err := echoOnce(addr, fmt.Sprint("m", i)); err != nil {
						failed.Add(1)
						t.Log(err)
					} else {
						ok.Add(1)
					}
				}
			}()
		}
		time.Sleep(100 * time.Millisecond)
		files, err := old.ListenerFiles()
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 {
			t.Errorf("ListenerFiles: %d files, want one per loop's socket (2)", len(files))
		}
		next := startOn(t, kind, Config{Listeners: files, Loops: 1}, &echoHandler{})
		for _, f := range files {
			f.Close()
		}
		if got := next.Addr().String(); got != addr {
			t.Fatalf("successor listens on %s, want %s", got, addr)
		}
		time.Sleep(100 * time.Millisecond)
		if err := old.StopAccepting(); err != nil {
			t.Fatal(err)
		}
		before := next.Stats().Accepted
		time.Sleep(200 * time.Millisecond)
		old.Close()
		time.Sleep(200 * time.Millisecond)
		close(stop)
		wg.Wait()
		if failed.Load() != 0 || ok.Load() == 0 {
			t.Errorf("%d connections served, %d failed", ok.Load(), failed.Load())
		}
		if next.Stats().Accepted <= before {
			t.Errorf("the successor accepted nothing after the handover")
		}
		// One connection at a time now: none may wait for another to
		// wake the successor's accept (watch.go).
		for i := 0; i < 20; i++ {
			if err := echoOnce(addr, "alone"); err != nil {
				t.Fatalf("connection %d after the handover: %v", i, err)
			}
		}
		t.Logf("accepts re-armed: %d", next.Stats().AcceptRearms)
	})
}
