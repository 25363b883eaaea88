package http

import "github.com/uringnet/uringnet/netserver"

// HTTPHandler receives a Server's HTTP events. Every method runs on the
// connection's event loop and must not block; long work belongs on another
// goroutine, which answers later through the Server's methods (they are safe
// from any goroutine). Embed NopHTTPHandler and override what you need.
type HTTPHandler interface {
	// HTTPRead is called as soon as a request head is complete, before its
	// body has arrived. req and every slice in it reference the read
	// buffer and are valid during the call only: use req.Clone to keep it.
	// failed is true only for requests the server could not parse; the
	// server answers those itself, so failed calls do not happen today.
	//
	// The handler answers with Respond, SendFile, or Write/Writev followed
	// by EndResponse, now or later. Responses go out in request order: the
	// next pipelined request is not read until this one's response ended.
	HTTPRead(req *Request, c netserver.ClientNum, failed bool)
	// HTTPBody delivers the request body (the seed's POST-read mode):
	// decoded chunks as they arrive, last set on the final call, or the
	// whole body in one call after CollectBody. data is valid during the
	// call only. Body bytes that arrive after the response ended are
	// discarded instead.
	HTTPBody(data []byte, c netserver.ClientNum, last bool)
	// HTTPWrite is called once per Write, when it was sent or failed.
	HTTPWrite(data []byte, c netserver.ClientNum, failed bool)
	// HTTPWritev is called once per Writev, and once per SendFile, when it
	// was sent or failed.
	HTTPWritev(bufs [][]byte, c netserver.ClientNum, failed bool)
	// HTTPClose is called once when the connection is gone.
	HTTPClose(c netserver.ClientNum)
}

// NopHTTPHandler implements every HTTPHandler method as a no-op (HTTPRead
// answers nothing, so a server with only a NopHTTPHandler leaves requests
// unanswered until the idle timeout).
type NopHTTPHandler struct{}

// HTTPRead does nothing.
func (NopHTTPHandler) HTTPRead(*Request, netserver.ClientNum, bool) {}

// HTTPBody does nothing: the body is discarded.
func (NopHTTPHandler) HTTPBody([]byte, netserver.ClientNum, bool) {}

// HTTPWrite does nothing.
func (NopHTTPHandler) HTTPWrite([]byte, netserver.ClientNum, bool) {}

// HTTPWritev does nothing.
func (NopHTTPHandler) HTTPWritev([][]byte, netserver.ClientNum, bool) {}

// HTTPClose does nothing.
func (NopHTTPHandler) HTTPClose(netserver.ClientNum) {}
