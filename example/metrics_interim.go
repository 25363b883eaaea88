package main

import (
	"bytes"
	nethttp "net/http"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// bufferedWriter is a net/http.ResponseWriter that keeps the response, for
// serving /metrics natively until the stdhttp adapter lands (interim).
type bufferedWriter struct {
	header nethttp.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedWriter) Header() nethttp.Header { return w.header }

func (w *bufferedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferedWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	return w.body.Write(p)
}

// serveMetricsInterim answers req with d.metrics run on the loop.
func (d *demo) serveMetricsInterim(req *http.Request, c netserver.ClientNum) {
	r, err := nethttp.NewRequest(req.MethodString(), "http://demo/metrics", nil)
	if err != nil {
		d.s.RespondError(c, 500)
		return
	}
	w := &bufferedWriter{header: nethttp.Header{}}
	d.metrics.ServeHTTP(w, r)
	d.s.Respond(c, max(w.status, 200), w.header.Get("Content-Type"), w.body.Bytes())
}
