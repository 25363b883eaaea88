package http

import "strconv"

const hexDigits = "0123456789abcdef"

// AppendStatusLine appends "HTTP/1.1 <code> <reason>\r\n" to dst. An unknown
// code gets an empty reason phrase, which RFC 9112 §4 allows.
func AppendStatusLine(dst []byte, code int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, StatusText(code)...)
	return append(dst, "\r\n"...)
}

// AppendHeader appends "name: value\r\n" to dst. Control characters other
// than HTAB in name or value (CR and LF above all) are replaced by a space,
// so a value taken from user input cannot split the response.
func AppendHeader(dst []byte, name, value string) []byte {
	dst = appendSanitized(dst, name)
	dst = append(dst, ": "...)
	dst = appendSanitized(dst, value)
	return append(dst, "\r\n"...)
}

func appendSanitized(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return appendSanitizedSlow(dst, s)
		}
	}
	return append(dst, s...)
}

func appendSanitizedSlow(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' || c == 0x7f {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendContentLength appends "Content-Length: n\r\n" to dst without
// allocating.
func AppendContentLength(dst []byte, n int64) []byte {
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, "\r\n"...)
}

// AppendChunk appends data as one chunk of a chunked response: its size in
// hex, CRLF, the data, CRLF. Empty data appends nothing, since an empty
// chunk would be the last-chunk; end the body with AppendLastChunk.
func AppendChunk(dst, data []byte) []byte {
	if len(data) == 0 {
		return dst
	}
	dst = appendHex(dst, uint64(len(data)))
	dst = append(dst, "\r\n"...)
	dst = append(dst, data...)
	return append(dst, "\r\n"...)
}

// AppendLastChunk appends the last-chunk and the empty trailer section,
// "0\r\n\r\n", which end a chunked response body.
func AppendLastChunk(dst []byte) []byte {
	return append(dst, "0\r\n\r\n"...)
}

// AppendContinue appends the interim "HTTP/1.1 100 Continue\r\n\r\n"
// response, sent before reading the body of an Expect: 100-continue request.
func AppendContinue(dst []byte) []byte {
	return append(dst, "HTTP/1.1 100 Continue\r\n\r\n"...)
}

func appendHex(dst []byte, v uint64) []byte {
	var b [16]byte
	i := len(b)
	for {
		i--
		b[i] = hexDigits[v&0xf]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}
