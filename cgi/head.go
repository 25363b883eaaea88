package cgi

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxHeadBytes bounds a script's response head: a longer one is a 502.
const MaxHeadBytes = 64 << 10

// maxHeadFields bounds the number of header lines of a script's head.
const maxHeadFields = 100

// Head is a parsed CGI response head (RFC 3875 §6.3).
type Head struct {
	// Status is the code of the Status field, 0 when absent.
	Status int
	// Location is the Location field, empty when absent.
	Location string
	// ContentType is the Content-Type field, empty when absent.
	ContentType string
	// ContentLength is the Content-Length field, -1 when absent.
	ContentLength int64
	// Fields are the other fields, in order, names as given; hop-by-hop
	// fields (Connection, Keep-Alive, Transfer-Encoding, TE, Trailer,
	// Upgrade, Proxy-Connection) and Date are dropped.
	Fields [][2]string
}

// ErrBadHead is wrapped by the errors of ParseHead.
var ErrBadHead = errors.New("cgi: malformed response head")

// ParseHead parses a complete CGI response head: header lines ended by
// "\n" or "\r\n", up to and including the empty line. Names must be
// tokens, values must hold no control bytes but tab, a Status must be a
// code from 200 to 599 (followed by an optional reason), a Content-Length
// a decimal number, and a head must have at least one of Content-Type,
// Location or Status. Errors wrap ErrBadHead.
func ParseHead(b []byte) (*Head, error) {
	h := &Head{ContentLength: -1}
	n := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, fmt.Errorf("%w: unterminated line", ErrBadHead)
		}
		line := b[:i]
		b = b[i+1:]
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			break
		}
		if n++; n > maxHeadFields {
			return nil, fmt.Errorf("%w: more than %d fields", ErrBadHead, maxHeadFields)
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return nil, fmt.Errorf("%w: line without a name and colon", ErrBadHead)
		}
		name := line[:colon]
		for _, c := range name {
			if !isToken(c) {
				return nil, fmt.Errorf("%w: bad byte %q in field name", ErrBadHead, c)
			}
		}
		value := bytes.Trim(line[colon+1:], " \t")
		for _, c := range value {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return nil, fmt.Errorf("%w: control byte in field %q", ErrBadHead, name)
			}
		}
		v := string(value)
		switch strings.ToLower(string(name)) {
		case "status":
			code, err := parseStatus(v)
			if err != nil {
				return nil, err
			}
			h.Status = code
		case "location":
			if v == "" {
				return nil, fmt.Errorf("%w: empty Location", ErrBadHead)
			}
			h.Location = v
		case "content-type":
			h.ContentType = v
		case "content-length":
			cl, err := strconv.ParseInt(v, 10, 64)
			if err != nil || cl < 0 || v[0] == '+' {
				return nil, fmt.Errorf("%w: Content-Length %q", ErrBadHead, v)
			}
			if h.ContentLength >= 0 && h.ContentLength != cl {
				return nil, fmt.Errorf("%w: conflicting Content-Length", ErrBadHead)
			}
			h.ContentLength = cl
		case "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "date":
			// hop-by-hop, or ours
		default:
			h.Fields = append(h.Fields, [2]string{string(name), v})
		}
	}
	if h.Status == 0 && h.Location == "" && h.ContentType == "" {
		return nil, fmt.Errorf("%w: no Content-Type, Location or Status", ErrBadHead)
	}
	return h, nil
}

// parseStatus parses a Status value: three digits, then optionally a
// space and a reason phrase.
func parseStatus(v string) (int, error) {
	if len(v) < 3 || len(v) > 3 && v[3] != ' ' && v[3] != '\t' {
		return 0, fmt.Errorf("%w: Status %q", ErrBadHead, v)
	}
	code := 0
	for _, c := range []byte(v[:3]) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: Status %q", ErrBadHead, v)
		}
		code = code*10 + int(c-'0')
	}
	if code < 200 || code > 599 {
		return 0, fmt.Errorf("%w: Status %d out of range", ErrBadHead, code)
	}
	return code, nil
}

// IsLocalRedirect reports whether h is a local redirect response (RFC
// 3875 §6.2.2): a Location that is an absolute path, and no Status.
func (h *Head) IsLocalRedirect() bool {
	return h.Status == 0 && strings.HasPrefix(h.Location, "/") && !strings.HasPrefix(h.Location, "//")
}

// isToken reports whether c may appear in a field name (RFC 9110 tchar).
func isToken(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
