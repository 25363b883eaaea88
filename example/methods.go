package main

import (
	"strings"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// The Allow field values of the demo's routes. Every route but /echo is
// read-only: GET, and HEAD wherever GET is (the same head, no body).
const (
	allowRead = "GET, HEAD"
	allowEcho = "POST"
)

// routeAllow returns the methods the route of path allows, as an Allow
// field value. The same table serves both modes (native mode passes the
// raw path as bytes, which it does not copy).
func routeAllow[P ~string | ~[]byte](path P) string {
	if string(path) == "/echo" {
		return allowEcho
	}
	return allowRead
}

// knownMethod reports whether m is one of the methods RFC 9110 defines
// (§9.3; method names are case-sensitive).
func knownMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return true
	}
	return false
}

// checkMethod tells how a request with method on path must be answered:
// 0 when the route takes it, 501 for a method the demo does not know,
// 405 (with allow for the Allow field) for one the route does not take.
func checkMethod[P ~string | ~[]byte](method string, path P) (status int, allow string) {
	allow = routeAllow(path)
	switch {
	case !knownMethod(method):
		return http.StatusNotImplemented, ""
	case allows(allow, method):
		return 0, ""
	}
	return http.StatusMethodNotAllowed, allow
}

// allows reports whether the Allow field value allow lists method.
func allows(allow, method string) bool {
	for allow != "" {
		m, rest, _ := strings.Cut(allow, ", ")
		if m == method {
			return true
		}
		allow = rest
	}
	return false
}

// refuseMethod answers req natively with status (405 or 501) and its
// error page, and an Allow field when allow is set. The connection stays
// open (a body the request may have is discarded by the server).
func (d *demo) refuseMethod(req *http.Request, c netserver.ClientNum, status int, allow string) {
	body, ctype := d.s.Config().ErrorPages.Body(status)
	out := d.s.AppendHeadStart(nil, c, status, true)
	if allow != "" {
		out = http.AppendHeader(out, "Allow", allow)
	}
	out = http.AppendHeader(out, "Content-Type", ctype)
	out = http.AppendContentLength(out, int64(len(body)))
	out = d.s.AppendHeadEnd(out, c, false)
	if !req.IsHead() {
		out = append(out, body...)
	}
	d.s.Send(c, out)
	d.s.EndResponse(c)
}
