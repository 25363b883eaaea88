package http

// Default limits used when a [Limits] field is zero (or the *Limits is nil).
const (
	DefaultMaxRequestLine = 8192    // bytes of the request line, without CRLF
	DefaultMaxHeaderBytes = 16384   // bytes of the whole head, request line to empty line
	DefaultMaxHeaders     = 100     // header field lines
	DefaultMaxBodyBytes   = 8 << 20 // bytes of decoded body
)

// Limits bounds what a request may use. Zero fields mean the defaults.
// A nil *Limits means all defaults.
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

// WithDefaults returns a copy of l with every zero or negative field replaced
// by its default. It accepts a nil receiver.
func (l *Limits) WithDefaults() Limits {
	return Limits{
		MaxRequestLine: l.maxRequestLine(),
		MaxHeaderBytes: l.maxHeaderBytes(),
		MaxHeaders:     l.maxHeaders(),
		MaxBodyBytes:   l.maxBodyBytes(),
	}
}

func (l *Limits) maxRequestLine() int {
	if l == nil || l.MaxRequestLine <= 0 {
		return DefaultMaxRequestLine
	}
	return l.MaxRequestLine
}

func (l *Limits) maxHeaderBytes() int {
	if l == nil || l.MaxHeaderBytes <= 0 {
		return DefaultMaxHeaderBytes
	}
	return l.MaxHeaderBytes
}

func (l *Limits) maxHeaders() int {
	if l == nil || l.MaxHeaders <= 0 {
		return DefaultMaxHeaders
	}
	return l.MaxHeaders
}

func (l *Limits) maxBodyBytes() int64 {
	if l == nil || l.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return l.MaxBodyBytes
}
