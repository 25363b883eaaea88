package stdhttp

import (
	"context"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	uhttp "github.com/uringnet/uringnet/http"
)

// newRequest builds the *http.Request for a parsed head, as net/http's
// server would: canonical header keys, Host out of Header, the framing
// in ContentLength and TransferEncoding.
func newRequest(ctx context.Context, req *uhttp.Request, remote string) *http.Request {
	// WithContext is the one way to set a request's context: on an empty
	// request, it is also the request's one allocation.
	var empty http.Request
	r := empty.WithContext(ctx)
	r.Method = req.MethodString()
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, req.Minor
	r.Header = make(http.Header, len(req.Headers))
	r.Host = string(req.Host)
	r.RemoteAddr = remote
	r.RequestURI = string(req.Target)
	r.Body = http.NoBody
	r.Close = !req.KeepAlive
	switch {
	case req.Major == 2:
		// HTTP/2 (uringnet/http frames it; gRPC checks ProtoMajor).
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
	case req.Minor == 0:
		r.Proto = "HTTP/1.0"
	}
	r.URL = targetURL(r.RequestURI, req)
	for i := range req.Headers {
		f := &req.Headers[i]
		key := canonicalKey(f.Name)
		if key == "Host" {
			continue
		}
		r.Header[key] = append(r.Header[key], string(f.Value))
	}
	switch req.Body {
	case uhttp.BodyLength:
		r.ContentLength = req.ContentLength
	case uhttp.BodyChunked:
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
		delete(r.Header, "Transfer-Encoding")
	}
	return r
}

// targetURL parses the request-target uri as net/http does. An
// origin-form target without escapes (most of them) needs no parsing:
// the parser has checked its characters, and its path and query are
// slices of uri.
func targetURL(uri string, req *uhttp.Request) *url.URL {
	switch {
	case req.Form == uhttp.FormAuthority:
		return &url.URL{Host: uri}
	case req.Form == uhttp.FormOrigin && strings.IndexByte(uri, '%') < 0 && len(uri) > 0 && uri[0] == '/':
		u := &url.URL{Path: uri[:len(req.Path)]}
		if len(req.Path) < len(uri) {
			u.RawQuery = uri[len(req.Path)+1:]
			u.ForceQuery = u.RawQuery == ""
		}
		return u
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		// The parser checked the target's characters; what url refuses
		// (an odd escape) is kept raw rather than refused.
		u = &url.URL{Path: string(req.Path), RawQuery: string(req.Query)}
	}
	return u
}

// commonKeys are header names most requests carry, already canonical, so
// that they cost no allocation.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Accept", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Connection", "Content-Length", "Content-Type", "Cookie", "Host",
		"If-Modified-Since", "If-None-Match", "If-Range", "Origin", "Pragma", "Range", "Referer",
		"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Websocket-Key",
		"Sec-Websocket-Version", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol",
		"Transfer-Encoding", "Upgrade", "User-Agent", "X-Forwarded-For", "X-Request-Id", "Expect"} {
		m[strings.ToLower(k)] = k
		m[k] = k
	}
	return m
}()

// canonicalKey returns name in net/http's canonical form.
func canonicalKey(name []byte) string {
	if k, ok := commonKeys[string(name)]; ok { // no allocation for the lookup
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(string(name))
}
