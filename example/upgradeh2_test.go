package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestUpgradeHTTP2 upgrades the demo twice while HTTP/2 clients (8
// connections, 8 streams at a time on each) keep it busy, over h2c by
// prior knowledge and over TLS by ALPN: the old process's GOAWAY moves
// each client to a new connection, to the successor, and no request fails
// (x/net's client retries, on a new connection, a stream that the final
// GOAWAY says was not processed). Every process answers some of the load.
func TestUpgradeHTTP2(t *testing.T) {
	if testing.Short() {
		t.Skip("6 s of load per transport (-short)")
	}
	pki := newTestPKI(t)
	for _, tt := range []struct {
		name  string
		flags []string
		tls   bool
	}{
		{"h2c", nil, false},
		{"tls", []string{"-tls-cert", pki.certFile, "-tls-key", pki.keyFile}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var tc *tls.Config // the harness's own checks speak HTTP/1.1
			scheme := "http"
			if tt.tls {
				tc, scheme = pki.clientTLS(), "https"
				tc.NextProtos = nil
			}
			u := startUpgradableTLS(t, tc, tt.flags...)
			newClient := h2cClient // one HTTP/2 connection each
			if tt.tls {
				newClient = func() *nethttp.Client {
					return &nethttp.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{TLSClientConfig: pki.clientTLS()}}
				}
			}
			testUpgradeH2(t, u, scheme+"://"+u.addr+"/healthz", newClient)
		})
	}
}

// testUpgradeH2 runs the load of TestUpgradeHTTP2 on u through two
// upgrades and checks it.
func testUpgradeH2(t *testing.T, u *upgraded, url string, newClient func() *nethttp.Client) {
	stop := make(chan struct{})
	var (
		mu       sync.Mutex
		ok       int
		failures []string
		served   = map[int]int{} // responses per pid
		wg       sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	for range 8 {
		client := newClient() // a Transport each: one connection each
		defer client.CloseIdleConnections()
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					resp, err := client.Get(url)
					if err != nil {
						fail("GET: %v", err)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					var h struct {
						Status string
						Pid    int
					}
					err = json.NewDecoder(resp.Body).Decode(&h)
					resp.Body.Close()
					if err != nil || resp.StatusCode != 200 || resp.ProtoMajor != 2 || h.Status != "ok" {
						fail("%s %d %+v: %v", resp.Proto, resp.StatusCode, h, err)
						continue
					}
					mu.Lock()
					ok++
					served[h.Pid]++
					mu.Unlock()
				}
			}()
		}
	}
	for i := 0; i < 2; i++ {
		time.Sleep(2 * time.Second)
		old := int(u.pid.Load())
		pid, d := u.upgrade()
		u.waitExit(old, 30*time.Second)
		t.Logf("upgrade %d: %d -> %d, serving after %v", i+1, old, pid, d.Round(time.Millisecond))
	}
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d requests; by process: %v", ok, served)
	if len(failures) > 0 {
		t.Errorf("%d requests failed; first: %q", len(failures), failures[:min(len(failures), 5)])
	}
	for _, pid := range u.pids {
		if served[pid] == 0 {
			t.Errorf("process %d answered none of the load (%v)", pid, served)
		}
	}
}
