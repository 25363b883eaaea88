package cgi

import (
	"strings"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// Request returns the request a local redirect asks for (RFC 3875
// §6.2.2): a GET of the Location, with orig's header fields but those of
// its body, and Redirects one more than orig's.
func (r *LocalRedirect) Request(orig *http.Request) *http.Request {
	req := *orig
	req.Method = []byte("GET")
	req.Path = []byte(r.Path)
	req.Query = []byte(r.Query)
	req.Target = []byte(r.Target())
	req.Body, req.ContentLength = http.BodyNone, -1
	req.Expect100 = false
	req.Redirects = orig.Redirects + 1
	hs := make([]http.Header, 0, len(orig.Headers))
	for _, f := range orig.Headers {
		switch strings.ToLower(string(f.Name)) {
		case "content-type", "content-length", "transfer-encoding", "expect":
			continue
		}
		hs = append(hs, f)
	}
	req.Headers = hs
	return &req
}

// Target returns the Location as a request-target: the path, and the
// query after '?' when there is one.
func (r *LocalRedirect) Target() string {
	if r.Query == "" {
		return r.Path
	}
	return r.Path + "?" + r.Query
}

// Follow serves the local redirect r of orig, the request of client c:
// with dispatch, which serves the new request as HTTPRead would (or, when
// dispatch is nil, by sending the client a 302 to the Location). A request
// already redirected max times gets 502 instead. It reports whether the
// redirect was followed (dispatched or sent as a 302).
func Follow(srv *http.Server, c netserver.ClientNum, orig *http.Request, r *LocalRedirect, max int,
	dispatch func(*http.Request, netserver.ClientNum)) bool {
	if orig.Redirects >= max {
		srv.RespondError(c, http.StatusBadGateway)
		return false
	}
	if dispatch != nil {
		dispatch(r.Request(orig), c)
		return true
	}
	b := srv.AppendHeadStart(nil, c, http.StatusFound, true)
	b = http.AppendHeader(b, "Location", r.Target())
	b = http.AppendContentLength(b, 0)
	b = srv.AppendHeadEnd(b, c, false)
	srv.Send(c, b)
	srv.EndResponse(c)
	return true
}
