package http

import "strconv"

// Error is a parse or protocol error together with the HTTP status the
// server must answer with before closing the connection.
type Error struct {
	Status int    // response status code, e.g. 400, 413, 431
	Reason string // short description for logs; not sent to the client
}

// Error returns "http: <status> <text>: <reason>".
func (e *Error) Error() string {
	return "http: " + strconv.Itoa(e.Status) + " " + StatusText(e.Status) + ": " + e.Reason
}

// The errors Parse and the body decoders return. They are sentinel values:
// compare with == or errors.Is, and do not modify them.
var (
	errBareLF         = &Error{StatusBadRequest, "bare LF line ending"}
	errBareCR         = &Error{StatusBadRequest, "bare CR"}
	errRequestLine    = &Error{StatusBadRequest, "malformed request line"}
	errMethod         = &Error{StatusBadRequest, "method is not a token"}
	errTarget         = &Error{StatusBadRequest, "malformed request-target"}
	errTargetForm     = &Error{StatusBadRequest, "request-target form not allowed for method"}
	errVersion        = &Error{StatusBadRequest, "malformed HTTP version"}
	errVersionSupport = &Error{StatusHTTPVersionNotSupported, "unsupported HTTP version"}
	errLineTooLong    = &Error{StatusURITooLong, "request line too long"}
	errHeadTooLarge   = &Error{StatusRequestHeaderFieldsTooLarge, "request head too large"}
	errTooManyFields  = &Error{StatusRequestHeaderFieldsTooLarge, "too many header fields"}
	errObsFold        = &Error{StatusBadRequest, "obsolete line folding"}
	errFieldName      = &Error{StatusBadRequest, "malformed header field name"}
	errFieldValue     = &Error{StatusBadRequest, "invalid character in header field value"}
	errNoHost         = &Error{StatusBadRequest, "HTTP/1.1 request without Host"}
	errManyHosts      = &Error{StatusBadRequest, "more than one Host field"}
	errBadHost        = &Error{StatusBadRequest, "malformed Host"}
	errContentLength  = &Error{StatusBadRequest, "malformed Content-Length"}
	errLengthConflict = &Error{StatusBadRequest, "differing Content-Length values"}
	errBodyTooLarge   = &Error{StatusRequestEntityTooLarge, "body larger than the limit"}
	errTEAndCL        = &Error{StatusBadRequest, "both Transfer-Encoding and Content-Length"}
	errTEHTTP10       = &Error{StatusBadRequest, "Transfer-Encoding in an HTTP/1.0 request"}
	errTEChunkedLast  = &Error{StatusBadRequest, "chunked is not the final transfer coding"}
	errTEEmpty        = &Error{StatusBadRequest, "empty Transfer-Encoding"}
	errTEUnsupported  = &Error{StatusNotImplemented, "unsupported transfer coding"}
)

// maxLeadingEmptyLines is how many CRLFs before the request line are ignored
// (RFC 9112 §2.2 asks for at least one).
const maxLeadingEmptyLines = 4

// Parse parses one request head (request line, header fields and the empty
// line) from the start of buf.
//
// It returns n > 0 and a nil error when the head is complete: n is the length
// of the head, the body (if any) starts at buf[n:], and the fields of req
// reference buf. It returns 0, nil when buf holds an incomplete head that is
// still within the limits and more input is needed. It returns 0 and an
// [*Error] when the request must be rejected with the error's status; the
// connection should then be closed after the error response. Unless n > 0,
// the contents of req are unspecified.
//
// The result does not depend on how the input was split: on every proper
// prefix of a valid head Parse says it needs more, and a limit is reported as
// soon as the bytes present prove it is exceeded. lim may be nil for the
// defaults. Parse does not allocate once req.Headers has grown to the needed
// capacity.
func Parse(buf []byte, req *Request, lim *Limits) (n int, err error) {
	req.Reset()
	maxLine, maxHead, maxFields := lim.maxRequestLine(), lim.maxHeaderBytes(), lim.maxHeaders()

	pos := 0
	for i := 0; i < maxLeadingEmptyLines; i++ {
		if pos == len(buf) || pos+1 == len(buf) && buf[pos] == '\r' {
			return 0, nil
		}
		if buf[pos] != '\r' {
			break
		}
		if buf[pos+1] != '\n' {
			return 0, errBareCR
		}
		pos += 2
	}

	// A CR may end the request line no later than index pos+maxLine (414),
	// and must leave room for its LF and the final CRLF within maxHead bytes
	// (431).
	bound, limitErr := pos+maxLine+1, errLineTooLong
	if maxHead-3 < bound {
		bound, limitErr = maxHead-3, errHeadTooLarge
	}
	cr, err := lineEnd(buf, pos, bound, limitErr)
	if cr < 0 {
		return 0, err
	}
	if err := parseRequestLine(buf[pos:cr], req); err != nil {
		return 0, err
	}
	pos = cr + 2

	st := fieldState{contentLength: -1}
	for {
		// The CR of the final empty line may be at index maxHead-2; a field
		// line needs room for the final CRLF after its own.
		bound := maxHead - 1
		if pos < len(buf) && buf[pos] != '\r' {
			if len(req.Headers) >= maxFields {
				return 0, errTooManyFields
			}
			bound = maxHead - 3
		}
		cr, err := lineEnd(buf, pos, bound, errHeadTooLarge)
		if cr < 0 {
			return 0, err
		}
		if cr == pos {
			n = cr + 2
			break
		}
		if err := st.parseField(buf[pos:cr], req); err != nil {
			return 0, err
		}
		pos = cr + 2
	}
	if err := st.finish(req, lim.maxBodyBytes()); err != nil {
		return 0, err
	}
	return n, nil
}

// lineEnd finds the CRLF ending the line that starts at buf[start]. It
// returns the index of the CR, or -1 with a nil error when more input is
// needed, or -1 with an error. The CR must lie before index bound; once
// buf reaches bound without one, limitErr is returned. A bare LF or a CR
// not followed by LF is an error.
func lineEnd(buf []byte, start, bound int, limitErr *Error) (int, error) {
	end := min(len(buf), bound)
	for i := start; i < end; i++ {
		switch buf[i] {
		case '\n':
			return -1, errBareLF
		case '\r':
			if i+1 == len(buf) {
				return -1, nil
			}
			if buf[i+1] != '\n' {
				return -1, errBareCR
			}
			return i, nil
		}
	}
	if len(buf) >= bound {
		return -1, limitErr
	}
	return -1, nil
}

// parseRequestLine parses "method SP request-target SP HTTP-version" (RFC
// 9112 §3) into req.
func parseRequestLine(line []byte, req *Request) error {
	sp1 := indexByte(line, ' ')
	if sp1 < 0 {
		return errRequestLine
	}
	method := line[:sp1]
	if !isToken(method) {
		return errMethod
	}
	rest := line[sp1+1:]
	sp2 := indexByte(rest, ' ')
	if sp2 <= 0 {
		return errRequestLine
	}
	target, version := rest[:sp2], rest[sp2+1:]
	req.Method, req.Target = method, target
	if err := parseTarget(target, req); err != nil {
		return err
	}
	return parseVersion(version, req)
}

// parseVersion accepts HTTP/1.1 and HTTP/1.0; other well-formed versions
// are 505, anything else 400 (RFC 9112 §2.3).
func parseVersion(v []byte, req *Request) error {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9' {
		return errVersion
	}
	req.Major, req.Minor = int(v[5]-'0'), int(v[7]-'0')
	if req.Major != 1 || req.Minor > 1 {
		return errVersionSupport
	}
	return nil
}

// parseTarget classifies and splits the request-target (RFC 9112 §3.2).
func parseTarget(t []byte, req *Request) error {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !targetTable[c] {
			return errTarget
		}
		if c == '%' && (i+2 >= len(t) || hexTable[t[i+1]] < 0 || hexTable[t[i+2]] < 0) {
			return errTarget
		}
	}
	connect := string(req.Method) == "CONNECT"
	switch {
	case connect:
		if !validHost(t, false, true) {
			return errTargetForm
		}
		req.Form, req.Host = FormAuthority, t
		return nil
	case t[0] == '/':
		req.Form = FormOrigin
		req.Path, req.Query = splitQuery(t)
		return nil
	case len(t) == 1 && t[0] == '*':
		if string(req.Method) != "OPTIONS" {
			return errTargetForm
		}
		req.Form, req.Path = FormAsterisk, t
		return nil
	}
	return parseAbsolute(t, req)
}

// parseAbsolute parses an absolute-form target "http(s)://authority[path][?query]".
func parseAbsolute(t []byte, req *Request) error {
	var rest []byte
	switch {
	case len(t) > 7 && equalFold(t[:7], "http://"):
		rest = t[7:]
	case len(t) > 8 && equalFold(t[:8], "https://"):
		rest = t[8:]
	default:
		return errTarget
	}
	end := len(rest)
	for i, c := range rest {
		if c == '/' || c == '?' {
			end = i
			break
		}
	}
	authority := rest[:end]
	if !validHost(authority, false, false) {
		return errTarget
	}
	req.Form, req.Host = FormAbsolute, authority
	req.Path, req.Query = splitQuery(rest[end:])
	if len(req.Path) == 0 {
		req.slash[0] = '/'
		req.Path = req.slash[:]
	}
	return nil
}

func splitQuery(t []byte) (path, query []byte) {
	if q := indexByte(t, '?'); q >= 0 {
		return t[:q], t[q+1:]
	}
	return t, t[len(t):]
}

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// fieldState accumulates what the header fields say about framing and the
// connection while they are parsed.
type fieldState struct {
	hosts         int
	contentLength int64 // -1 until a Content-Length field is seen
	te            teState
	connClose     bool
	connKeepAlive bool
	connUpgrade   bool
	upgrade       bool
	expect100     bool
}

// teState tracks the transfer codings listed in Transfer-Encoding fields.
type teState struct {
	seen           bool // a Transfer-Encoding field is present
	codings        int  // non-empty list elements
	lastChunked    bool // the most recent coding is chunked
	chunkedNotLast bool // a coding follows chunked
	other          bool // a coding other than chunked appears
}

// parseField validates one field line (RFC 9112 §5, RFC 9110 §5.5), appends
// it to req.Headers and records its meaning if it is one the parser acts on.
func (st *fieldState) parseField(line []byte, req *Request) error {
	if line[0] == ' ' || line[0] == '\t' {
		return errObsFold
	}
	colon := -1
	for i, c := range line {
		if c == ':' {
			colon = i
			break
		}
		if !tcharTable[c] {
			return errFieldName
		}
	}
	if colon <= 0 {
		return errFieldName
	}
	name, value := line[:colon], trimOWS(line[colon+1:])
	for _, c := range value {
		if !fieldValueTable[c] {
			return errFieldValue
		}
	}
	req.Headers = append(req.Headers, Header{Name: name, Value: value})

	switch len(name) {
	case 4:
		if equalFold(name, "host") {
			st.hosts++
			if st.hosts > 1 {
				return errManyHosts
			}
			if !validHost(value, true, false) {
				return errBadHost
			}
			if req.Form != FormAbsolute && req.Form != FormAuthority {
				req.Host = value
			}
		}
	case 6:
		if equalFold(name, "expect") && hasToken(value, "100-continue") {
			st.expect100 = true
		}
	case 7:
		if equalFold(name, "upgrade") && len(value) > 0 {
			st.upgrade = true
		}
	case 10:
		if equalFold(name, "connection") {
			st.connection(value)
		}
	case 14:
		if equalFold(name, "content-length") {
			return st.parseContentLength(value)
		}
	case 17:
		if equalFold(name, "transfer-encoding") {
			st.transferEncoding(value)
		}
	}
	return nil
}

func (st *fieldState) connection(list []byte) {
	for len(list) > 0 {
		var tok []byte
		tok, list = nextElement(list)
		switch {
		case equalFold(tok, "close"):
			st.connClose = true
		case equalFold(tok, "keep-alive"):
			st.connKeepAlive = true
		case equalFold(tok, "upgrade"):
			st.connUpgrade = true
		}
	}
}

// parseContentLength accepts "digits" or a list of identical values
// ("5, 5"), which it collapses (RFC 9110 §8.6, RFC 9112 §6.3).
func (st *fieldState) parseContentLength(list []byte) error {
	if len(list) == 0 {
		return errContentLength
	}
	for more := true; more; {
		var elem []byte
		more = indexByte(list, ',') >= 0
		elem, list = nextElement(list)
		if len(elem) == 0 {
			return errContentLength
		}
		var v int64
		for _, c := range elem {
			if c < '0' || c > '9' {
				return errContentLength
			}
			d := int64(c - '0')
			if v > (1<<63-1-d)/10 {
				return errContentLength // overflow
			}
			v = v*10 + d
		}
		if st.contentLength >= 0 && st.contentLength != v {
			return errLengthConflict
		}
		st.contentLength = v
	}
	return nil
}

// transferEncoding records the codings of one Transfer-Encoding field; the
// verdict is given in finish, once all fields are known.
func (st *fieldState) transferEncoding(list []byte) {
	st.te.seen = true
	for len(list) > 0 {
		var coding []byte
		coding, list = nextElement(list)
		if len(coding) == 0 {
			continue
		}
		if st.te.lastChunked {
			st.te.chunkedNotLast = true
		}
		st.te.codings++
		st.te.lastChunked = equalFold(coding, "chunked")
		if !st.te.lastChunked {
			st.te.other = true
		}
	}
}

// finish applies the rules that depend on the head as a whole and fills in
// the framing and connection fields of req.
func (st *fieldState) finish(req *Request, maxBody int64) error {
	if req.Minor == 1 && st.hosts == 0 {
		return errNoHost
	}
	req.ContentLength = st.contentLength
	switch {
	case st.te.seen:
		switch {
		case req.Minor == 0:
			return errTEHTTP10
		case st.contentLength >= 0:
			return errTEAndCL
		case st.te.codings == 0:
			return errTEEmpty
		case st.te.chunkedNotLast:
			return errTEChunkedLast
		case st.te.other:
			return errTEUnsupported
		}
		req.Body = BodyChunked
	case st.contentLength > maxBody:
		return errBodyTooLarge
	case st.contentLength > 0:
		req.Body = BodyLength
	}
	req.Close = st.connClose
	if req.Minor == 1 {
		req.KeepAlive = !st.connClose
		req.Expect100 = st.expect100
	} else {
		req.KeepAlive = st.connKeepAlive && !st.connClose
	}
	// A server must ignore Upgrade in an HTTP/1.0 request (RFC 9110 §7.8).
	req.Upgrade = req.Minor == 1 && st.connUpgrade && st.upgrade
	return nil
}
