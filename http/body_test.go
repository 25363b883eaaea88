package http

import (
	"testing"
)

func TestBodyCollector(t *testing.T) {
	tests := []struct {
		name  string
		head  string
		rest  string
		limit int64
		body  string
		used  int // bytes of rest consumed
		want  int // 0 = done, needMore, or error status
	}{
		{"no body", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", 0, "", 0, 0},
		{"length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", "helloGET", 0, "hello", 5, 0},
		{"length partial", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", "hel", 0, "hel", 3, needMore},
		{"length over limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", "hello", 4, "", 0, 413},
		{"chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
			"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET", 0, "hello world", 26, 0},
		{"chunked partial", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
			"5\r\nhello\r\n6\r\n wo", 0, "hello wo", 16, needMore},
		{"chunked over limit", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
			"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 8, "hello", 10, 413},
		{"chunked bad", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
			"5\r\nhelloXX", 0, "hello", 8, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req Request
			if _, err := Parse([]byte(tt.head), &req, nil); err != nil {
				t.Fatal(err)
			}
			for _, oneByte := range []bool{false, true} {
				var c BodyCollector
				c.SetBuffer(make([]byte, 0, 64))
				c.Reset(&req, tt.limit)
				rest := []byte(tt.rest)
				used, done, status := 0, false, needMore
				for {
					src := rest[used:]
					if oneByte && len(src) > 0 {
						src = src[:1]
					}
					n, d, err := c.Feed(src)
					used += n
					if err != nil {
						status = statusOf(0, err)
						break
					}
					if d {
						done, status = true, 0
						break
					}
					if n == 0 && used == len(rest) {
						break
					}
				}
				if status != tt.want || string(c.Bytes()) != tt.body || used != tt.used || c.Done() != done {
					t.Fatalf("oneByte=%v: body %q used %d status %d; want %q %d %d",
						oneByte, c.Bytes(), used, status, tt.body, tt.used, tt.want)
				}
				// Done and error states are sticky.
				if tt.want != needMore {
					n, d, err := c.Feed([]byte("x"))
					if n != 0 || d != done || (err != nil) != (tt.want > 0) {
						t.Fatalf("Feed after end = %d, %v, %v", n, d, err)
					}
				}
			}
		})
	}
}

func TestBodyCollectorNilAndReuse(t *testing.T) {
	var c BodyCollector
	c.Reset(nil, 0)
	if n, done, err := c.Feed([]byte("abc")); n != 0 || !done || err != nil {
		t.Fatalf("nil request: %d, %v, %v", n, done, err)
	}
	buf := make([]byte, 0, 32)
	c.SetBuffer(buf)
	req := Request{Body: BodyLength, ContentLength: 3}
	c.Reset(&req, 0)
	c.Feed([]byte("abc"))
	if string(c.Bytes()) != "abc" || &c.Bytes()[0] != &buf[:1][0] {
		t.Fatalf("body %q not in the given buffer", c.Bytes())
	}
	c.Reset(&req, 0)
	if len(c.Bytes()) != 0 || cap(c.Bytes()) != 32 {
		t.Fatalf("Reset did not keep the buffer: len %d cap %d", len(c.Bytes()), cap(c.Bytes()))
	}
}
