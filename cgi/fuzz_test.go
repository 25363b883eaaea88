package cgi

import (
	"errors"
	"testing"
)

// FuzzParseHead checks that ParseHead never panics, and that what it
// accepts satisfies its contract.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"Content-Type: text/plain\n\n",
		"Status: 404 Not Found\r\nContent-Type: text/html\r\n\r\n",
		"Location: /x\n\n",
		"Location: http://example.com/\nStatus: 301\n\n",
		"Content-Length: 12\nContent-Type: a/b\nX-A: 1\n\n",
		"garbage\n\n",
		"Status: 99\n\n",
		"Content-Type: a\x01b\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHead(b)
		if err != nil {
			if !errors.Is(err, ErrBadHead) {
				t.Fatalf("error %v does not wrap ErrBadHead", err)
			}
			return
		}
		if h.Status != 0 && (h.Status < 200 || h.Status > 599) {
			t.Fatalf("status %d accepted", h.Status)
		}
		if h.Status == 0 && h.Location == "" && h.ContentType == "" {
			t.Fatal("head without Status, Location or Content-Type accepted")
		}
		for _, f := range h.Fields {
			for _, c := range []byte(f[0] + f[1]) {
				if c < 0x20 && c != '\t' || c == 0x7f {
					t.Fatalf("control byte in field %q", f)
				}
			}
		}
	})
}
