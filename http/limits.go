package http

import "math"

// Default limits used when a [Limits] field is zero (or the *Limits is nil).
const (
	DefaultMaxRequestLine = 8192    // bytes of the request line, without CRLF
	DefaultMaxHeaderBytes = 16384   // bytes of the whole head, request line to empty line
	DefaultMaxHeaders     = 100     // header field lines
	DefaultMaxBodyBytes   = 8 << 20 // bytes of decoded body
)

// Limits bounds what a request may use. Zero fields mean the defaults,
// negative ones mean no limit (NoLimit for the int fields, the largest
// int64 for MaxBodyBytes). A nil *Limits means all defaults.
type Limits struct {
	// MaxRequestLine is the longest request line accepted, CRLF excluded.
	// A longer request line is answered with 414 (URI Too Long).
	MaxRequestLine int
	// MaxHeaderBytes bounds the whole request head: request line, header
	// fields and the empty line, CRLFs included. Larger heads get 431.
	MaxHeaderBytes int
	// MaxHeaders is the most header field lines accepted; more get 431.
	MaxHeaders int
	// MaxBodyBytes bounds the body: a larger Content-Length gets 413, and so
	// does a chunked body whose decoded size grows beyond it.
	MaxBodyBytes int64
}

// NoLimit is what a negative int field of Limits stands for: as good as
// none, and still safe from overflow in the parser's arithmetic.
const NoLimit = 1 << 30

// WithDefaults returns a copy of l with every zero field replaced by its
// default and every negative one by its "none" value. It accepts a nil
// receiver.
func (l *Limits) WithDefaults() Limits {
	return Limits{
		MaxRequestLine: l.maxRequestLine(),
		MaxHeaderBytes: l.maxHeaderBytes(),
		MaxHeaders:     l.maxHeaders(),
		MaxBodyBytes:   l.maxBodyBytes(),
	}
}

func (l *Limits) maxRequestLine() int {
	if l == nil {
		return DefaultMaxRequestLine
	}
	return intLimit(l.MaxRequestLine, DefaultMaxRequestLine)
}

func (l *Limits) maxHeaderBytes() int {
	if l == nil {
		return DefaultMaxHeaderBytes
	}
	return intLimit(l.MaxHeaderBytes, DefaultMaxHeaderBytes)
}

func (l *Limits) maxHeaders() int {
	if l == nil {
		return DefaultMaxHeaders
	}
	return intLimit(l.MaxHeaders, DefaultMaxHeaders)
}

func (l *Limits) maxBodyBytes() int64 {
	switch {
	case l == nil || l.MaxBodyBytes == 0:
		return DefaultMaxBodyBytes
	case l.MaxBodyBytes < 0:
		return math.MaxInt64
	}
	return l.MaxBodyBytes
}

// intLimit applies the rule to one int field: zero is def, negative is
// NoLimit.
func intLimit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return NoLimit
	}
	return v
}
