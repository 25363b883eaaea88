package websocket

import (
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
)

// acceptGUID is the GUID RFC 6455 appends to the client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for a client's
// Sec-WebSocket-Key: the base64 of the SHA-1 of the key followed by the
// RFC 6455 GUID.
func AcceptKey(key string) string {
	return string(appendAcceptKey(nil, key))
}

// appendAcceptKey appends AcceptKey(key) to dst without allocating for keys
// of ordinary length.
func appendAcceptKey(dst []byte, key string) []byte {
	var buf [64 + len(acceptGUID)]byte
	b := append(buf[:0], key...)
	b = append(b, acceptGUID...)
	sum := sha1.Sum(b)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// ValidKey reports whether key is a valid Sec-WebSocket-Key: the base64
// encoding of 16 bytes (RFC 6455 4.1).
func ValidKey(key string) bool {
	if len(key) != 24 || key[22] != '=' || key[23] != '=' {
		return false
	}
	var raw [18]byte
	n, err := base64.StdEncoding.Strict().Decode(raw[:], []byte(key))
	return err == nil && n == 16
}

// UpgradeRequest holds what CheckUpgrade needs from a client's opening
// handshake. Header fields hold the raw values; a header sent on several
// lines is joined with commas.
type UpgradeRequest struct {
	Method       string
	Major, Minor int // HTTP version
	Host         string
	Upgrade      string
	Connection   string
	Key          string // Sec-WebSocket-Key
	Version      string // Sec-WebSocket-Version
	Origin       string
	Protocol     string // Sec-WebSocket-Protocol
	Extensions   string // Sec-WebSocket-Extensions
}

// UpgradeOptions configure CheckUpgrade.
type UpgradeOptions struct {
	// Subprotocols the server speaks, most preferred first.
	Subprotocols []string
	// CheckOrigin decides whether to accept a request's Origin (which may
	// be empty) for its Host. When nil, SameOrigin is used. To accept every
	// origin, set a function that returns true.
	CheckOrigin func(origin, host string) bool
	// Compression enables the negotiation of permessage-deflate.
	Compression bool
	// MaxMessageSize is the message size limit the server will give its
	// Decoder; CheckUpgrade does not use it.
	MaxMessageSize int64
}

// UpgradeResult is what CheckUpgrade negotiated.
type UpgradeResult struct {
	// Subprotocol is the chosen subprotocol, or "" if none.
	Subprotocol string
	// Deflate holds the permessage-deflate parameters, or nil if the
	// extension was not negotiated.
	Deflate *DeflateParams
}

// HandshakeError reports a client handshake the server refuses. Status is
// the HTTP status to answer with: 400 for a malformed request, 403 for a
// refused origin, 426 for an unsupported protocol version.
type HandshakeError struct {
	Status int
	Reason string
}

// Error implements the error interface.
func (e *HandshakeError) Error() string {
	return "websocket: handshake refused (" + strconv.Itoa(e.Status) + "): " + e.Reason
}

// AppendResponse appends a complete HTTP/1.1 error response for e to dst,
// with "Sec-WebSocket-Version: 13" when the status is 426, and a body that
// states the reason. The response closes the connection.
func (e *HandshakeError) AppendResponse(dst []byte) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(e.Status), 10)
	dst = append(dst, ' ')
	dst = append(dst, statusText(e.Status)...)
	dst = append(dst, "\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"...)
	if e.Status == 426 {
		dst = append(dst, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"...)
	}
	body := e.Reason + "\n"
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

func statusText(status int) string {
	switch status {
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 426:
		return "Upgrade Required"
	}
	return "Error"
}

func handshakeError(status int, reason string) *HandshakeError {
	return &HandshakeError{Status: status, Reason: reason}
}

// CheckUpgrade validates a client's opening handshake (RFC 6455 4.2.1) and
// negotiates the subprotocol and extensions. The method must be GET, the
// HTTP version 1.1 or higher, Host present, Upgrade must list "websocket"
// and Connection "upgrade" (both case-insensitive), the key must be valid,
// the version 13 and the origin accepted. On failure it returns a
// *HandshakeError; a nil o means the default options.
//
// The chosen subprotocol is the first of o.Subprotocols that the client
// offered. permessage-deflate is negotiated only when o.Compression is set.
func CheckUpgrade(r *UpgradeRequest, o *UpgradeOptions) (UpgradeResult, error) {
	if o == nil {
		o = &UpgradeOptions{}
	}
	if r.Method != "GET" {
		return UpgradeResult{}, handshakeError(400, "method must be GET")
	}
	if r.Major < 1 || (r.Major == 1 && r.Minor < 1) {
		return UpgradeResult{}, handshakeError(400, "HTTP/1.1 or higher required")
	}
	if trimOWS(r.Host) == "" {
		return UpgradeResult{}, handshakeError(400, "missing Host")
	}
	if !hasToken(r.Upgrade, "websocket") {
		return UpgradeResult{}, handshakeError(400, "Upgrade header must name websocket")
	}
	if !hasToken(r.Connection, "upgrade") {
		return UpgradeResult{}, handshakeError(400, "Connection header must contain upgrade")
	}
	if trimOWS(r.Version) != "13" {
		return UpgradeResult{}, handshakeError(426, "unsupported Sec-WebSocket-Version, want 13")
	}
	if strings.Contains(r.Key, ",") {
		// RFC 6455 11.3.1: the field appears once in a request.
		return UpgradeResult{}, handshakeError(400, "more than one Sec-WebSocket-Key")
	}
	if !ValidKey(trimOWS(r.Key)) {
		return UpgradeResult{}, handshakeError(400, "invalid Sec-WebSocket-Key")
	}
	check := o.CheckOrigin
	if check == nil {
		check = SameOrigin
	}
	if !check(trimOWS(r.Origin), trimOWS(r.Host)) {
		return UpgradeResult{}, handshakeError(403, "origin not allowed")
	}
	var res UpgradeResult
	for _, p := range o.Subprotocols {
		if hasTokenExact(r.Protocol, p) {
			res.Subprotocol = p
			break
		}
	}
	if o.Compression {
		res.Deflate = NegotiateDeflate(r.Extensions)
	}
	return res, nil
}

// SameOrigin accepts a request without an Origin header (not a browser) and
// one whose Origin names the same host (and port) as host, compared
// case-insensitively. It is the default origin check of CheckUpgrade.
func SameOrigin(origin, host string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, host)
}

// AppendUpgradeResponse appends the "101 Switching Protocols" response that
// accepts a handshake with the given client key and negotiated result.
func AppendUpgradeResponse(dst []byte, key string, res UpgradeResult) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = appendAcceptKey(dst, trimOWS(key))
	dst = append(dst, "\r\n"...)
	if res.Subprotocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, res.Subprotocol...)
		dst = append(dst, "\r\n"...)
	}
	if res.Deflate != nil {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = res.Deflate.AppendResponse(dst)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// hasToken reports whether the comma-separated list contains token,
// compared case-insensitively.
func hasToken(list, token string) bool {
	for len(list) > 0 {
		var item string
		item, list = cutList(list)
		if strings.EqualFold(item, token) {
			return true
		}
	}
	return false
}

// hasTokenExact is hasToken with a case-sensitive comparison, as
// subprotocol names are.
func hasTokenExact(list, token string) bool {
	for len(list) > 0 {
		var item string
		item, list = cutList(list)
		if item == token {
			return true
		}
	}
	return false
}

// cutList returns the first element of a comma-separated list, trimmed of
// optional whitespace, and the rest of the list. Commas inside a quoted
// string do not separate elements.
func cutList(list string) (item, rest string) {
	quoted := false
	for i := 0; i < len(list); i++ {
		switch c := list[i]; {
		case c == '"':
			quoted = !quoted
		case c == '\\' && quoted && i+1 < len(list):
			i++
		case c == ',' && !quoted:
			return trimOWS(list[:i]), list[i+1:]
		}
	}
	return trimOWS(list), ""
}

// trimOWS trims HTTP optional whitespace (spaces and tabs).
func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}
