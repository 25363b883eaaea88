package websocket

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ExtensionDeflate is the name of the permessage-deflate extension.
const ExtensionDeflate = "permessage-deflate"

// DeflateParams are the negotiated parameters of permessage-deflate
// (RFC 7692 7.1). This package only negotiates no context takeover in both
// directions, so both NoContextTakeover fields are always true in a
// negotiated result; the window fields are 0 when the parameter is absent.
type DeflateParams struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	// ServerMaxWindowBits is 15 when the client offered
	// server_max_window_bits=15 (the only value this package accepts), else 0.
	ServerMaxWindowBits int
	// ClientMaxWindowBits is the client_max_window_bits value the server
	// answers with; this package never restricts the client, so it is 0.
	ClientMaxWindowBits int
}

// AppendResponse appends the Sec-WebSocket-Extensions value that accepts p,
// such as "permessage-deflate; server_no_context_takeover;
// client_no_context_takeover", to dst.
func (p *DeflateParams) AppendResponse(dst []byte) []byte {
	dst = append(dst, ExtensionDeflate...)
	if p.ServerNoContextTakeover {
		dst = append(dst, "; server_no_context_takeover"...)
	}
	if p.ClientNoContextTakeover {
		dst = append(dst, "; client_no_context_takeover"...)
	}
	if p.ServerMaxWindowBits != 0 {
		dst = append(dst, "; server_max_window_bits="...)
		dst = strconv.AppendInt(dst, int64(p.ServerMaxWindowBits), 10)
	}
	if p.ClientMaxWindowBits != 0 {
		dst = append(dst, "; client_max_window_bits="...)
		dst = strconv.AppendInt(dst, int64(p.ClientMaxWindowBits), 10)
	}
	return dst
}

// NegotiateDeflate reads the client's Sec-WebSocket-Extensions value (all
// header lines joined by commas) and returns the parameters that accept the
// first acceptable permessage-deflate offer, or nil when there is none.
//
// An offer is declined when it carries an unknown or duplicated parameter,
// a parameter value that is malformed or out of range (window bits must be
// 8-15), or server_max_window_bits below 15 (Go's compress/flate always uses
// a 32 KiB window). An accepted offer is always answered with
// server_no_context_takeover and client_no_context_takeover.
func NegotiateDeflate(extensions string) *DeflateParams {
	for len(extensions) > 0 {
		var offer string
		offer, extensions = cutList(extensions)
		name, params, _ := strings.Cut(offer, ";")
		if !strings.EqualFold(trimOWS(name), ExtensionDeflate) {
			continue
		}
		if p, ok := parseDeflateOffer(params); ok {
			return p
		}
	}
	return nil
}

// parseDeflateOffer checks the parameters of one permessage-deflate offer
// (the text after the extension name) and returns the accepting response.
func parseDeflateOffer(params string) (*DeflateParams, bool) {
	const (
		seenSNCT = 1 << iota
		seenCNCT
		seenSMWB
		seenCMWB
	)
	seen := 0
	res := &DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	for params != "" {
		var param string
		param, params, _ = strings.Cut(params, ";")
		param = trimOWS(param)
		if param == "" {
			return nil, false
		}
		name, value, hasValue := strings.Cut(param, "=")
		name = trimOWS(name)
		var bit int
		switch strings.ToLower(name) {
		case "server_no_context_takeover":
			bit = seenSNCT
			if hasValue {
				return nil, false
			}
		case "client_no_context_takeover":
			bit = seenCNCT
			if hasValue {
				return nil, false
			}
		case "server_max_window_bits":
			bit = seenSMWB
			if !hasValue {
				return nil, false
			}
			bits, ok := windowBits(value)
			if !ok || bits != 15 {
				return nil, false
			}
			res.ServerMaxWindowBits = bits
		case "client_max_window_bits":
			bit = seenCMWB
			if hasValue {
				if _, ok := windowBits(value); !ok {
					return nil, false
				}
			}
		default:
			return nil, false
		}
		if seen&bit != 0 {
			return nil, false
		}
		seen |= bit
	}
	return res, true
}

// windowBits parses a window bits value: a decimal 8-15 with no leading
// zero, optionally quoted (RFC 7692 7.1.2.1).
func windowBits(v string) (int, bool) {
	v = trimOWS(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	if n < 8 || n > 15 {
		return 0, false
	}
	return n, true
}

// deflateTail completes a message compressed without its trailing
// 00 00 ff ff: the sync flush marker the sender stripped, then an empty
// final stored block so that the inflater reports io.EOF cleanly.
var deflateTail = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// Compressor compresses whole messages for permessage-deflate without
// context takeover. It is not safe for concurrent use; since it keeps no
// state between messages, one per event loop is enough.
type Compressor struct {
	w   *flate.Writer
	out appendWriter
}

// NewCompressor returns a Compressor using the given compress/flate level
// (flate.BestSpeed is a good choice for a server).
func NewCompressor(level int) (*Compressor, error) {
	c := &Compressor{}
	w, err := flate.NewWriter(&c.out, level)
	if err != nil {
		return nil, fmt.Errorf("websocket: new compressor: %w", err)
	}
	c.w = w
	return c, nil
}

// Append compresses msg as one permessage-deflate message, appends it to
// dst without the trailing 00 00 ff ff (RFC 7692 7.2.1) and returns the
// extended slice. The result is the payload of a frame sent with RSV1 set.
func (c *Compressor) Append(dst, msg []byte) []byte {
	c.out.b = dst
	c.w.Reset(&c.out)
	// Writes to an appendWriter cannot fail, so neither can these.
	_, _ = c.w.Write(msg)
	_ = c.w.Flush()
	out := c.out.b
	c.out.b = nil
	if n := len(out); n-len(dst) >= 4 && out[n-4] == 0 && out[n-3] == 0 && out[n-2] == 0xff && out[n-1] == 0xff {
		out = out[:n-4]
	}
	return out
}

// appendWriter is an io.Writer that appends to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// Decompressor inflates whole permessage-deflate messages negotiated
// without context takeover. It is not safe for concurrent use; since it
// keeps no state between messages, one per event loop is enough.
type Decompressor struct {
	r   io.ReadCloser
	src tailReader
}

// NewDecompressor returns a ready Decompressor.
func NewDecompressor() *Decompressor {
	d := &Decompressor{}
	d.r = flate.NewReader(&d.src)
	return d
}

// Append inflates the compressed payload of one message (as received, that
// is without the trailing 00 00 ff ff) and appends it to dst. It stops as
// soon as the output would exceed limit bytes and returns a
// [*ProtocolError] with [CloseTooBig], so that a highly compressed input
// cannot make it allocate more than about limit bytes. Corrupt input yields
// a [*ProtocolError] with [CloseInvalidPayload]. On error dst is returned
// unchanged in length.
func (d *Decompressor) Append(dst, compressed []byte, limit int64) ([]byte, error) {
	d.src = tailReader{a: compressed, b: deflateTail[:]}
	if err := d.r.(flate.Resetter).Reset(&d.src, nil); err != nil {
		return dst, fmt.Errorf("websocket: reset inflater: %w", err)
	}
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			grow := max(512, len(dst)-start)
			if room := limit + 1 - int64(len(dst)-start); int64(grow) > room {
				grow = int(room)
			}
			dst = append(dst[:cap(dst)], make([]byte, grow)...)[:len(dst)]
		}
		buf := dst[len(dst):cap(dst)]
		if room := limit + 1 - int64(len(dst)-start); int64(len(buf)) > room {
			buf = buf[:room]
		}
		n, err := d.r.Read(buf)
		dst = dst[:len(dst)+n]
		if int64(len(dst)-start) > limit {
			d.src = tailReader{}
			return dst[:start], protocolError(CloseTooBig, "decompressed message too big")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			d.src = tailReader{}
			var corrupt flate.CorruptInputError
			if errors.As(err, &corrupt) || errors.Is(err, io.ErrUnexpectedEOF) {
				return dst[:start], protocolError(CloseInvalidPayload, "invalid compressed data")
			}
			return dst[:start], fmt.Errorf("websocket: inflate: %w", err)
		}
	}
	d.src = tailReader{}
	return dst, nil
}

// tailReader reads a and then b, byte by byte if asked (it is a
// flate.Reader, so the inflater reads it without buffering).
type tailReader struct{ a, b []byte }

func (r *tailReader) Read(p []byte) (int, error) {
	if len(r.a) == 0 {
		r.a, r.b = r.b, nil
		if len(r.a) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, r.a)
	r.a = r.a[n:]
	return n, nil
}

func (r *tailReader) ReadByte() (byte, error) {
	if len(r.a) == 0 {
		r.a, r.b = r.b, nil
		if len(r.a) == 0 {
			return 0, io.EOF
		}
	}
	c := r.a[0]
	r.a = r.a[1:]
	return c, nil
}
