package stdhttp

import (
	"errors"
	"net/http"
	"strings"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"golang.org/x/net/http/httpguts"
)

// ErrNotAdapter is returned by TakeOver for a ResponseWriter that is not
// the adapter's.
var ErrNotAdapter = errors.New("stdhttp: not a ResponseWriter of the adapter")

// TakeOver hands the request of w back to uringnet's native side: f runs
// on the connection's loop with the request as a uringnet Request (its
// head, rebuilt from the *http.Request) and the client number, and
// answers it natively: websocket.Server.Upgrade, Server.Respond,
// Server.SendFile, Detach. From then on the response is f's; the handler
// must not use w again. It is how a net/http route hands a WebSocket to
// the loops (no goroutine per connection). TakeOver returns once f has
// run.
func TakeOver(w http.ResponseWriter, f func(req *uhttp.Request, c netserver.ClientNum)) error {
	rw, ok := w.(*response)
	if !ok {
		return ErrNotAdapter
	}
	if rw.detached || rw.headSent {
		return http.ErrHijacked
	}
	if err := rw.waitPiece(); err != nil {
		return err
	}
	rw.detached = true
	rw.releaseBuf()
	cl := rw.cl
	native := nativeRequest(cl.req, rw.keepAlive)
	ran := make(chan error, 1)
	err := cl.a.queue(cl.c, func() {
		if !cl.current() {
			ran <- errClientGone
			return
		}
		cl.a.ended(cl)
		cl.a.cnt.hijacked.Add(1)
		f(native, cl.c)
		ran <- nil
	})
	if err != nil {
		return errClientGone
	}
	if err := <-ran; err != nil {
		return err
	}
	cl.a.slots.leave(cl)
	return nil
}

// nativeRequest rebuilds a uringnet Request from r.
func nativeRequest(r *http.Request, keepAlive bool) *uhttp.Request {
	req := &uhttp.Request{
		Method:        []byte(r.Method),
		Target:        []byte(r.RequestURI),
		Path:          []byte(r.URL.EscapedPath()),
		Query:         []byte(r.URL.RawQuery),
		Major:         r.ProtoMajor,
		Minor:         r.ProtoMinor,
		Host:          []byte(r.Host),
		ContentLength: r.ContentLength,
		KeepAlive:     keepAlive,
		Close:         r.Close,
	}
	if r.Host != "" {
		req.Headers = append(req.Headers, uhttp.Header{Name: []byte("Host"), Value: []byte(r.Host)})
	}
	for _, k := range sortedKeys(r.Header) {
		for _, v := range r.Header[k] {
			req.Headers = append(req.Headers, uhttp.Header{Name: []byte(k), Value: []byte(v)})
		}
	}
	switch {
	case len(r.TransferEncoding) > 0:
		req.Body = uhttp.BodyChunked
	case r.ContentLength > 0:
		req.Body = uhttp.BodyLength
	}
	req.Upgrade = r.ProtoMinor == 1 && r.Header.Get("Upgrade") != "" &&
		httpguts.HeaderValuesContainsToken(r.Header["Connection"], "upgrade")
	req.Expect100 = strings.EqualFold(r.Header.Get("Expect"), "100-continue")
	return req
}
