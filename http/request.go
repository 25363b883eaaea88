package http

// BodyMode says how the body of a request is framed.
type BodyMode uint8

// The body framings of RFC 9112 §6.3 that a request may use.
const (
	BodyNone    BodyMode = iota // no body (no framing header, or Content-Length: 0)
	BodyLength                  // ContentLength bytes follow the head
	BodyChunked                 // chunked transfer coding; decode with ChunkedDecoder
)

// String returns the name of the mode, for logs and test failures.
func (m BodyMode) String() string {
	switch m {
	case BodyNone:
		return "none"
	case BodyLength:
		return "length"
	case BodyChunked:
		return "chunked"
	}
	return "BodyMode(?)"
}

// TargetForm is the form of a request-target (RFC 9112 §3.2).
type TargetForm uint8

// The four request-target forms.
const (
	FormOrigin    TargetForm = iota // "/path?query"
	FormAbsolute                    // "http://host/path?query"
	FormAuthority                   // "host:port", CONNECT only
	FormAsterisk                    // "*", OPTIONS only
)

// Request is a parsed request head. Every byte slice references the buffer
// given to [Parse] and is valid only as long as that buffer is unchanged; a
// Request is meant to be reused, with [Request.Reset] (which Parse calls).
type Request struct {
	Method []byte // the method token, case-sensitive ("GET")
	Target []byte // the request-target exactly as received
	// Path is the raw, not percent-decoded path: for origin-form the part of
	// Target before '?', for absolute-form the path after the authority
	// ("/" when empty), "*" for asterisk-form, empty for authority-form.
	Path []byte
	// Query is the raw query after '?' (without it); empty when absent.
	Query []byte
	Form  TargetForm

	Major, Minor int // protocol version: 1.1 or 1.0

	// Headers holds the header fields in the order received. Its backing
	// array is reused between requests.
	Headers []Header

	// Host is the Host field value, or the authority of an absolute-form or
	// authority-form target (which takes precedence, RFC 9112 §3.2.2).
	Host []byte

	ContentLength int64    // -1 when the request has no Content-Length
	Body          BodyMode // how the body that follows the head is framed

	KeepAlive bool // the connection may serve another request after this one
	Close     bool // "Connection: close" was sent
	Expect100 bool // "Expect: 100-continue" in an HTTP/1.1 request
	Upgrade   bool // "Connection: upgrade" and an Upgrade field are present

	// Redirects counts the local redirects (CGI, RFC 3875 §6.2.2) followed
	// to reach this request: 0 for a request the client sent. Handlers
	// that follow them (packages cgi and fastcgi) bound it.
	Redirects int

	slash [1]byte // backing storage for Path "/" of an absolute-form target
}

// Reset clears r for reuse, keeping the capacity of r.Headers.
func (r *Request) Reset() {
	clear(r.Headers) // drop references to the previous buffer
	*r = Request{Headers: r.Headers[:0], ContentLength: -1}
}

// Header returns the value of the first field named name (compared
// case-insensitively), or nil if there is none. A present but empty field
// gives a non-nil empty slice.
func (r *Request) Header(name string) []byte {
	for i := range r.Headers {
		if equalFold(r.Headers[i].Name, name) {
			v := r.Headers[i].Value
			if v == nil {
				v = r.Headers[i].Name[:0:0]
			}
			return v
		}
	}
	return nil
}

// HeaderValues calls f with the value of every field named name, in order,
// until f returns false.
func (r *Request) HeaderValues(name string, f func(v []byte) bool) {
	for i := range r.Headers {
		if equalFold(r.Headers[i].Name, name) && !f(r.Headers[i].Value) {
			return
		}
	}
}

// HasToken reports whether any field named name holds token as an element of
// its comma-separated list, both compared case-insensitively. It suits
// Connection, Upgrade, TE, Transfer-Encoding and the like.
func (r *Request) HasToken(name, token string) bool {
	for i := range r.Headers {
		if equalFold(r.Headers[i].Name, name) && hasToken(r.Headers[i].Value, token) {
			return true
		}
	}
	return false
}

// MethodString returns the method as a string, without allocating for the
// methods of RFC 9110.
func (r *Request) MethodString() string {
	switch string(r.Method) {
	case "GET":
		return "GET"
	case "HEAD":
		return "HEAD"
	case "POST":
		return "POST"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "CONNECT":
		return "CONNECT"
	case "OPTIONS":
		return "OPTIONS"
	case "TRACE":
		return "TRACE"
	case "PATCH":
		return "PATCH"
	}
	return string(r.Method)
}

// IsHead reports whether the method is HEAD, whose response carries no body.
func (r *Request) IsHead() bool { return string(r.Method) == "HEAD" }

// Clone returns a deep copy of r that owns its bytes, for a handler that
// answers after HTTPRead has returned.
func (r *Request) Clone() *Request {
	n := 0
	for _, b := range [][]byte{r.Method, r.Target, r.Host} {
		n += len(b)
	}
	for _, h := range r.Headers {
		n += len(h.Name) + len(h.Value)
	}
	buf := make([]byte, 0, n)
	dup := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	c := *r
	c.Method, c.Target, c.Host = dup(r.Method), dup(r.Target), dup(r.Host)
	c.Path, c.Query = relocate(r.Target, c.Target, r.Path), relocate(r.Target, c.Target, r.Query)
	if c.Path == nil && r.Path != nil {
		c.Path = append([]byte(nil), r.Path...)
	}
	if c.Query == nil && r.Query != nil {
		c.Query = append([]byte(nil), r.Query...)
	}
	c.Headers = make([]Header, len(r.Headers))
	for i, h := range r.Headers {
		c.Headers[i] = Header{Name: dup(h.Name), Value: dup(h.Value)}
	}
	return &c
}

// relocate returns the slice of dst at the position sub has in src, or nil
// when sub does not lie within src.
func relocate(src, dst, sub []byte) []byte {
	if len(sub) == 0 || len(src) == 0 {
		if sub == nil {
			return nil
		}
		return sub[:0:0]
	}
	for i := 0; i+len(sub) <= len(src); i++ {
		if &src[i] == &sub[0] {
			return dst[i : i+len(sub) : i+len(sub)]
		}
	}
	return nil
}
