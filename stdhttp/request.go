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
	r := &http.Request{
		Method:     req.MethodString(),
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: req.Minor,
		Header:     make(http.Header, len(req.Headers)),
		Host:       string(req.Host),
		RemoteAddr: remote,
		RequestURI: string(req.Target),
		Body:       http.NoBody,
		Close:      !req.KeepAlive,
	}
	if req.Minor == 0 {
		r.Proto = "HTTP/1.0"
	}
	switch req.Form {
	case uhttp.FormAuthority:
		r.URL = &url.URL{Host: r.RequestURI}
	default:
		u, err := url.ParseRequestURI(r.RequestURI)
		if err != nil {
			// The parser checked the target's characters; what url
			// refuses (an odd escape) is kept raw rather than refused.
			u = &url.URL{Path: string(req.Path), RawQuery: string(req.Query)}
		}
		r.URL = u
	}
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
	return r.WithContext(ctx)
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
