package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestUpgradeHTTP2 upgrades the demo twice while HTTP/2 clients (h2c by
// prior knowledge: 8 connections, 8 streams at a time on each) keep it
// busy: the old process's GOAWAY moves each client to a new connection,
// to the successor, and no request fails (x/net's client retries, on a
// new connection, a stream the GOAWAY says was never processed). Every
// process answers some of the load.
func TestUpgradeHTTP2(t *testing.T) {
	if testing.Short() {
		t.Skip("6 s of load (-short)")
	}
	u := startUpgradable(t)
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
		client := h2cClient() // a Transport each: one connection each
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
					resp, err := client.Get("http://" + u.addr + "/healthz")
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
