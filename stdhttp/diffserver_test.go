package stdhttp_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/stdhttp"
)

// adapterIsStd says serveAdapter is net/http (as it was until the adapter
// landed): the cases where the adapter differs on purpose then expect
// net/http's answer. The -diffself flag does the same at run time.
const adapterIsStd = false

// serveAdapter starts the adapter side of the differential tests: the
// handler on stdhttp.Server over one loop, on 127.0.0.1 (port chosen by
// the system), shut down when the test ends.
func serveAdapter(t *testing.T, h http.Handler, o serverOpts) (string, func()) {
	t.Helper()
	s := &stdhttp.Server{
		Addr:              "127.0.0.1:0",
		Handler:           h,
		ReadHeaderTimeout: o.readHeaderTimeout,
		ReadTimeout:       o.readTimeout,
		IdleTimeout:       o.idleTimeout,
		MaxHeaderBytes:    o.maxHeaderBytes,
		ErrorLog:          quietLog,
		Native: uhttp.Config{Net: netserver.Config{Loops: 1},
			HTTP2: uhttp.HTTP2Config{NoCleartext: true}}, // as the net/http peer: no h2c
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	shutdown := sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("adapter Shutdown: %v", err)
		}
		s.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("adapter Serve: %v", err)
		}
	})
	t.Cleanup(shutdown)
	<-s.Ready()
	return s.BoundAddr().String(), shutdown
}
