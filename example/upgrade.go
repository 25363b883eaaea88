package main

import (
	"context"
	"os"
	"strconv"
	"time"

	"github.com/uringnet/uringnet/http"
)

// drainHTTP starts draining s (http.Server.Drain: no more accepts,
// requests in flight finish, keep-alive connections close as their
// responses end, idle ones at once) within timeout, and returns its
// result when it is done.
func drainHTTP(s *http.Server, timeout time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		done <- s.Drain(ctx)
	}()
	return done
}

// Liveness and readiness bodies: the status and this process's id (which
// an upgrade changes).
var pidJSON = strconv.Itoa(os.Getpid())

// healthBody answers /healthz: the process is alive and serves.
func healthBody() []byte { return []byte(`{"status":"ok","pid":` + pidJSON + "}") }

// readyBody answers /readyz: 200 while the server takes new work, 503
// once it drains (an upgrade's old process, or one stopping), so that a
// load balancer sends it nothing new.
func readyBody(draining bool) (int, []byte) {
	if draining {
		return http.StatusServiceUnavailable, []byte(`{"status":"draining","pid":` + pidJSON + "}")
	}
	return http.StatusOK, []byte(`{"status":"ready","pid":` + pidJSON + "}")
}
