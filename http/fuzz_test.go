package http

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// fuzzLimits are small enough for the fuzzer to reach every limit.
var fuzzLimits = &Limits{MaxRequestLine: 40, MaxHeaderBytes: 120, MaxHeaders: 4, MaxBodyBytes: 100}

func FuzzParse(f *testing.F) {
	for _, s := range splitRequests {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://h:1/p?q HTTP/1.1\r\nHost: a\r\n\r\n",
		"CONNECT [::1]:443 HTTP/1.1\r\nHost: a\r\n\r\n",
		"OPTIONS * HTTP/1.0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
		"\r\n\r\nGET /%41 HTTP/2.0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, lim := range []*Limits{nil, fuzzLimits} {
			checkParseSplits(t, in, lim)
		}
	})
}

// checkParseSplits parses in whole and checks that every prefix agrees:
// a prefix of a complete head needs more, and a prefix of a rejected input
// needs more or is rejected with the same error.
func checkParseSplits(t *testing.T, in []byte, lim *Limits) {
	var req Request
	n, err := Parse(in, &req, lim)
	switch {
	case err != nil && n != 0:
		t.Fatalf("Parse(%q) = %d with error %v", in, n, err)
	case err != nil:
		if _, ok := err.(*Error); !ok {
			t.Fatalf("Parse(%q) error %T is not *Error", in, err)
		}
	case n > len(in):
		t.Fatalf("Parse(%q) = %d beyond the input", in, n)
	case n > 0:
		checkRequest(t, in[:n], &req, lim)
	}
	end := len(in)
	if n > 0 {
		end = n
	}
	var p Request
	for i := 0; i < end; i++ {
		m, perr := Parse(in[:i], &p, lim)
		if m != 0 || perr != nil && perr != err {
			t.Fatalf("Parse(%q) = %d, %v but its prefix %q gives %d, %v", in, n, err, in[:i], m, perr)
		}
	}
	if n > 0 {
		// Trailing bytes (a body, the next request) change nothing.
		if m, perr := Parse(in[:n], &p, lim); m != n || perr != nil {
			t.Fatalf("Parse(head %q) = %d, %v, want %d", in[:n], m, perr, n)
		}
	}
}

// checkRequest checks invariants of a successfully parsed request.
func checkRequest(t *testing.T, head []byte, r *Request, lim *Limits) {
	l := lim.WithDefaults()
	if len(head) > l.MaxHeaderBytes || len(r.Headers) > l.MaxHeaders {
		t.Fatalf("head of %d bytes, %d fields passed the limits", len(head), len(r.Headers))
	}
	if !bytes.HasSuffix(head, []byte("\r\n\r\n")) && !bytes.Equal(head, []byte("\r\n")) {
		t.Fatalf("head %q does not end with an empty line", head)
	}
	if r.Major != 1 || r.Minor > 1 || !isToken(r.Method) || len(r.Target) == 0 {
		t.Fatalf("bad request line fields: %q %q %d.%d", r.Method, r.Target, r.Major, r.Minor)
	}
	if r.ContentLength > l.MaxBodyBytes || r.Body == BodyChunked && r.ContentLength >= 0 {
		t.Fatalf("framing: CL %d body %v", r.ContentLength, r.Body)
	}
	if r.Body == BodyChunked && r.Minor == 0 {
		t.Fatal("chunked HTTP/1.0 request accepted")
	}
	for _, h := range r.Headers {
		if !isToken(h.Name) || bytes.ContainsAny(h.Value, "\r\n\x00") {
			t.Fatalf("bad field %q: %q", h.Name, h.Value)
		}
	}
}

func FuzzChunked(f *testing.F) {
	for _, s := range []string{
		"5\r\nhello\r\n0\r\n\r\n",
		"5;a=b;c=\"d\\\"e\"\r\nhello\r\n6 ;x\r\n world\r\n0\r\nT: v\r\n\r\nnext",
		"0\r\n\r\n",
		"fffffffffffffffff\r\n",
		"5\r\nhelloXX",
		"3\r\nabc\r\n0\r\nX-A: 1\r\n b\r\n\r\n",
	} {
		f.Add([]byte(s), uint64(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, seed>>7))
		body, used, done, err := decodeChunked(in, 100, whole)
		if used > len(in) || done && err != nil {
			t.Fatalf("decode(%q): used %d, done %v, err %v", in, used, done, err)
		}
		if len(body) > 100 {
			t.Fatalf("decode(%q): %d bytes beyond the limit", in, len(body))
		}
		for _, step := range []func() int{oneByte, func() int { return rng.IntN(8) + 1 }} {
			b, u, d, e := decodeChunked(in, 100, step)
			if !bytes.Equal(b, body) || u != used || d != done || e != err {
				t.Fatalf("decode(%q) split: %q %d %v %v; whole: %q %d %v %v", in, b, u, d, e, body, used, done, err)
			}
		}
		if done {
			// What the decoder accepted re-encodes to a body it decodes the same.
			re := AppendLastChunk(AppendChunk(nil, body))
			b, u, d, e := decodeChunked(re, 100, whole)
			if !bytes.Equal(b, body) || u != len(re) || !d || e != nil {
				t.Fatalf("re-encoded %q: %q %d %v %v", re, b, u, d, e)
			}
		}
	})
}
