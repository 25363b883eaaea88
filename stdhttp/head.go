package stdhttp

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// headInfo is what the handler's header says about framing, read once at
// WriteHeader.
type headInfo struct {
	contentLength int64 // the handler's Content-Length, -1 when none
	te            string
	haveType      bool
	haveDate      bool
	hasCE         bool
	close         bool     // Connection: close
	trailers      []string // declared in Trailer
}

// readHead reads h at WriteHeader time, in one pass over its fields.
func readHead(h http.Header) headInfo {
	hi := headInfo{contentLength: -1}
	for k, vs := range h {
		switch k {
		case "Content-Type":
			hi.haveType = true // even empty: the handler asked for none
			continue
		case "Date":
			hi.haveDate = true // even empty: the handler asked for none
			continue
		}
		if len(vs) == 0 {
			continue
		}
		switch k {
		case "Content-Length":
			if n, err := strconv.ParseInt(vs[0], 10, 64); err == nil && n >= 0 {
				hi.contentLength = n
			} else {
				delete(h, k)
			}
		case "Transfer-Encoding":
			hi.te = vs[0]
		case "Content-Encoding":
			hi.hasCE = vs[0] != ""
		case "Connection":
			hi.close = httpguts.HeaderValuesContainsToken(vs, "close")
		case "Trailer":
			for _, v := range vs {
				for _, k := range strings.Split(v, ",") {
					if k = strings.TrimSpace(k); k != "" {
						hi.trailers = append(hi.trailers, http.CanonicalHeaderKey(k))
					}
				}
			}
		}
	}
	return hi
}

// framing is how a response's body goes out, decided with its head.
type framing struct {
	contentLength int64 // written as Content-Length when >= 0
	chunked       bool
	close         bool   // the connection closes after the response
	contentType   string // sniffed, when the handler set none
}

// bodyAllowed reports whether a response with status may have a body.
func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == 204 || status == 304)
}

// decide frames a response as net/http's server does: p is the body
// buffered so far, final says the handler has returned.
func (w *response) decide(p []byte, final bool) framing {
	hi := &w.hi
	f := framing{contentLength: hi.contentLength}
	trailers := len(hi.trailers) > 0 || w.hasPrefixTrailers()
	hasTE := hi.te != ""
	if final && !trailers && !hasTE && bodyAllowed(w.status) && hi.contentLength < 0 && (!w.head || len(p) > 0) {
		f.contentLength = int64(len(p))
	}
	hasCL := f.contentLength >= 0
	switch {
	case w.http10 && w.keepAlive && (w.head || hasCL || !bodyAllowed(w.status)):
		// the loop writes Connection: keep-alive
	case w.http10 || !w.keepAlive:
		f.close = true
	}
	if hi.close || w.cl.a.isDraining() {
		f.close = true
	}
	if b := w.cl.body; b != nil && !b.complete() && (b.expectPending() || !w.keepAlive || b.isBroken()) {
		f.close = true // the client may still send a body nobody asked for, or the rest of one
	}
	if bodyAllowed(w.status) && !hi.haveType && !hi.hasCE && !hasTE && len(p) > 0 {
		f.contentType = http.DetectContentType(p)
	}
	if hasCL && hasTE && hi.te != "identity" {
		f.contentLength, hasCL = -1, false
	}
	switch {
	case w.head || !bodyAllowed(w.status):
	case hasCL:
	case !w.http10:
		if hi.te == "identity" {
			f.close = true
		} else {
			f.chunked = true
		}
	default:
		f.close = true
	}
	if f.chunked || !bodyAllowed(w.status) {
		f.contentLength = -1
	}
	return f
}

// hasPrefixTrailers reports whether the handler set a trailer with
// http.TrailerPrefix.
func (w *response) hasPrefixTrailers() bool {
	for k := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return true
		}
	}
	return false
}

// appendFields appends the handler's header fields (sorted, as net/http
// writes them) and the framing's, except what the loop writes
// (Connection) and what the framing decides.
func (w *response) appendFields(dst []byte, f *framing) []byte {
	h := w.headHeader()
	var keyArr [16]string
	keys := keyArr[:0]
	for k := range h {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Connection":
			continue
		}
		if strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		if !bodyAllowed(w.status) && (k == "Content-Type" && w.status == 304) {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range h[k] {
			dst = appendField(dst, k, v)
		}
	}
	if f.contentType != "" {
		dst = appendField(dst, "Content-Type", f.contentType)
	}
	if f.contentLength >= 0 {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, f.contentLength, 10)
		dst = append(dst, "\r\n"...)
	}
	if f.chunked {
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	}
	return dst
}

// appendField appends "k: v\r\n", with CR and LF in v turned to spaces
// as net/http does.
func appendField(dst []byte, k, v string) []byte {
	dst = append(dst, k...)
	dst = append(dst, ": "...)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\r', '\n':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, "\r\n"...)
}

// appendTrailers appends the trailer section of a chunked body: the
// declared trailers and the http.TrailerPrefix ones, then the empty line.
func (w *response) appendTrailers(dst []byte) []byte {
	for _, k := range w.hi.trailers {
		for _, v := range w.header[k] {
			dst = appendField(dst, k, v)
		}
	}
	for k, vs := range w.header {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok && httpguts.ValidHeaderFieldName(name) {
			for _, v := range vs {
				dst = appendField(dst, name, v)
			}
		}
	}
	return append(dst, "\r\n"...)
}
