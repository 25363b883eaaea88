package http

import (
	"bytes"
	"encoding/base64"
	"strings"

	"golang.org/x/net/http2/hpack"
)

// h2Upgrade is a pending "Upgrade: h2c" (RFC 7540 §3.2): the decoded
// HTTP2-Settings and the request, as the fields of stream 1.
type h2Upgrade struct {
	settings []byte
	fields   []hpack.HeaderField
}

// maybeH2Upgrade answers an "Upgrade: h2c" request with 101 and marks the
// connection for the switch, which input makes once the request's
// callback would have run; it reports whether it did. Requests with a
// body stay on HTTP/1.1 (the server may ignore the Upgrade), as do those
// whose HTTP2-Settings is not one valid base64url field.
func (s *Server) maybeH2Upgrade(cn *conn, req *Request) bool {
	if !req.Upgrade || req.Body != BodyNone || !s.h2Cleartext() || !req.HasToken("Upgrade", "h2c") ||
		!req.HasToken("Connection", "HTTP2-Settings") {
		return false
	}
	var settings []byte
	n := 0
	for _, h := range req.Headers {
		if strings.EqualFold(string(h.Name), "HTTP2-Settings") {
			n++
			settings = h.Value
		}
	}
	if n != 1 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(string(bytes.TrimRight(settings, "=")))
	if err != nil || len(raw)%6 != 0 {
		return false
	}
	fields := []hpack.HeaderField{
		{Name: ":method", Value: string(req.Method)},
		{Name: ":scheme", Value: "http"},
		{Name: ":path", Value: string(req.Target)},
	}
	if len(req.Host) > 0 {
		fields = append(fields, hpack.HeaderField{Name: ":authority", Value: string(req.Host)})
	}
	for _, h := range req.Headers {
		name := strings.ToLower(string(h.Name))
		switch {
		case connectionField(name), name == "host", name == "http2-settings", name == "te":
			continue
		}
		fields = append(fields, hpack.HeaderField{Name: name, Value: string(h.Value)})
	}
	s.ns.Send(cn.c, []byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"))
	s.h2cnt.upgrades.Add(1)
	cn.h2up = &h2Upgrade{settings: raw, fields: fields}
	cn.h2pre = true
	cn.responding = false
	return true
}
