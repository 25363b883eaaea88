package http

import "math"

// Header is one header field line as received. Name and Value reference the
// buffer given to [Parse]; they are valid only as long as that buffer is.
// Value has its leading and trailing whitespace removed.
type Header struct{ Name, Value []byte }

// Character classes of RFC 9110 §5.6.2 and RFC 3986, as immutable lookup
// tables indexed by byte.
var (
	tcharTable      = makeTable(isTcharSlow)
	fieldValueTable = makeTable(isFieldValueSlow)
	targetTable     = makeTable(isTargetSlow)
	hostTable       = makeTable(isHostSlow)
	hexTable        = makeHexTable()
)

func makeTable(f func(c byte) bool) (t [256]bool) {
	for i := range t {
		t[i] = f(byte(i))
	}
	return t
}

func makeHexTable() (t [256]int8) {
	for i := range t {
		c := byte(i)
		switch {
		case '0' <= c && c <= '9':
			t[i] = int8(c - '0')
		case 'a' <= c && c <= 'f':
			t[i] = int8(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			t[i] = int8(c - 'A' + 10)
		default:
			t[i] = -1
		}
	}
	return t
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isTcharSlow reports whether c may appear in a token (RFC 9110 §5.6.2).
func isTcharSlow(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// isFieldValueSlow reports whether c may appear in a field value: VCHAR,
// obs-text, SP or HTAB (RFC 9110 §5.5). Every other control byte is refused.
func isFieldValueSlow(c byte) bool {
	return c == ' ' || c == '\t' || c >= 0x21 && c != 0x7f
}

// isTargetSlow reports whether c may appear in a request-target. Any visible
// ASCII character except '#' is accepted (browsers send some unencoded in
// queries); '%' is additionally checked to start a valid percent-encoding.
func isTargetSlow(c byte) bool {
	return c >= 0x21 && c <= 0x7e && c != '#'
}

// isHostSlow reports whether c may appear in the host part of an authority
// outside an IP literal: unreserved, pct-encoded and sub-delims (RFC 3986).
func isHostSlow(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '-', '.', '_', '~', '%', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tcharTable[c] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// equalFold reports whether b and s are equal under ASCII case folding.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// trimOWS removes leading and trailing SP and HTAB.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && isOWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isOWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// nextElement splits the first element off a comma-separated list
// (RFC 9110 §5.6.1) and returns it with OWS trimmed, plus the rest of the
// list. Empty elements are returned as empty slices; callers skip them.
func nextElement(list []byte) (elem, rest []byte) {
	for i, c := range list {
		if c == ',' {
			return trimOWS(list[:i]), list[i+1:]
		}
	}
	return trimOWS(list), nil
}

// hasToken reports whether the comma-separated list contains token,
// compared case-insensitively.
func hasToken(list []byte, token string) bool {
	for len(list) > 0 {
		var elem []byte
		elem, list = nextElement(list)
		if equalFold(elem, token) {
			return true
		}
	}
	return false
}

// validHost reports whether b is a syntactically valid authority
// "host [ ":" port ]" without userinfo (RFC 9110 §7.2, RFC 3986 §3.2).
// An empty b is valid only when allowEmpty is set; needPort demands a
// non-empty port, as CONNECT's authority-form does.
func validHost(b []byte, allowEmpty, needPort bool) bool {
	if len(b) == 0 {
		return allowEmpty && !needPort
	}
	i := 0
	if b[0] == '[' {
		// IP-literal: accept hex digits, ':', '.', and IPvFuture characters.
		i = 1
		for i < len(b) && b[i] != ']' {
			c := b[i]
			if !hostTable[c] && c != ':' {
				return false
			}
			i++
		}
		if i == len(b) || i == 1 {
			return false
		}
		i++ // past ']'
	} else {
		for i < len(b) && b[i] != ':' {
			if !hostTable[b[i]] {
				return false
			}
			i++
		}
		if i == 0 {
			return false
		}
	}
	if i == len(b) {
		return !needPort
	}
	if b[i] != ':' {
		return false
	}
	port := b[i+1:]
	if needPort && len(port) == 0 {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// splitList yields the comma-separated elements of a list with the optional
// whitespace around each element removed.
func splitList(h []byte) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for {
			i := 0
			for i < len(h) && h[i] != ',' {
				i++
			}
			if !yield(trimOWS(h[:i])) || i == len(h) {
				return
			}
			h = h[i+1:]
		}
	}
}

// parseDigits parses a non-empty run of ASCII digits, saturating at
// math.MaxInt64.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if v > (math.MaxInt64-d)/10 {
			v = math.MaxInt64
			continue
		}
		v = v*10 + d
	}
	return v, true
}

// unhexDigit returns the value of one hexadecimal digit.
func unhexDigit(c byte) (byte, bool) {
	v := hexTable[c]
	return byte(v), v >= 0
}
