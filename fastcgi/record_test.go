package fastcgi

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// decodeAll runs d over b in pieces of at most step bytes and returns a
// description of the records seen.
func decodeAll(b []byte, step int) (string, error) {
	var d Decoder
	var sb strings.Builder
	var cur []byte
	for len(b) > 0 {
		n := min(step, len(b))
		chunk := b[:n]
		b = b[n:]
		for len(chunk) > 0 {
			h, piece, end, used, ok, err := d.Next(chunk)
			chunk = chunk[used:]
			if err != nil {
				return sb.String(), err
			}
			if used == 0 && !ok {
				return sb.String(), errors.New("no progress")
			}
			if !ok {
				continue
			}
			cur = append(cur, piece...)
			if end {
				fmt.Fprintf(&sb, "%d/%d:%q;", h.Type, h.ID, cur)
				cur = cur[:0]
			}
		}
	}
	return sb.String(), nil
}

func TestRecordsRoundTrip(t *testing.T) {
	var b []byte
	b = AppendBeginRequest(b, 1, RoleResponder, FlagKeepConn)
	var params []byte
	params = AppendPair(params, "SHORT", "v")
	params = AppendPair(params, strings.Repeat("N", 200), strings.Repeat("v", 70000))
	b = AppendStream(b, TypeParams, 1, params)
	b, _ = AppendRecord(b, TypeParams, 1, nil)
	b = AppendStream(b, TypeStdout, 1, []byte("Status: 200\r\n\r\nbody"))
	b = AppendEndRequest(b, 1, 7, StatusRequestComplete)
	b = AppendAbortRequest(b, 1)
	b, _ = AppendRecord(b, TypeGetValuesResult, 0, AppendPair(nil, "FCGI_MPXS_CONNS", "0"))
	if len(b)%8 != 0 {
		t.Fatalf("records not padded: %d bytes", len(b))
	}
	whole, err := decodeAll(b, len(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []int{1, 3, 7, 8, 13, 4096} {
		got, err := decodeAll(b, step)
		if err != nil || got != whole {
			t.Fatalf("step %d: %v\n%.200s\n%.200s", step, err, got, whole)
		}
	}
	if _, err := AppendRecord(nil, TypeStdin, 1, make([]byte, MaxContent+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized record: %v", err)
	}
	var got [][2]string
	if err := ParsePairs(params, 1<<20, func(n, v []byte) error {
		got = append(got, [2]string{string(n), string(v)})
		return nil
	}); err != nil || len(got) != 2 || got[0] != [2]string{"SHORT", "v"} || len(got[1][1]) != 70000 {
		t.Fatalf("pairs: %v %d", err, len(got))
	}
	if err := ParsePairs(params, 1000, func(n, v []byte) error { return nil }); !errors.Is(err, ErrTooLarge) {
		t.Errorf("limit: %v", err)
	}
	if err := ParsePairs(params[:len(params)-1], 1<<20, func(n, v []byte) error { return nil }); !errors.Is(err, ErrShort) {
		t.Errorf("short: %v", err)
	}
	if err := ParsePairs([]byte{0x80, 0}, 1<<20, func(n, v []byte) error { return nil }); !errors.Is(err, ErrShort) {
		t.Errorf("short length: %v", err)
	}
	if _, _, err := ParseEndRequest([]byte{1}); !errors.Is(err, ErrShort) {
		t.Errorf("short END_REQUEST: %v", err)
	}
	if _, err := ParseHeader([]byte{2, 1, 0, 1, 0, 0, 0, 0}); !errors.Is(err, ErrVersion) {
		t.Errorf("version: %v", err)
	}
	if _, err := ParseHeader([]byte{1}); !errors.Is(err, ErrShort) {
		t.Errorf("short header: %v", err)
	}
	if _, err := decodeAll([]byte{9, 1, 0, 1, 0, 0, 0, 0}, 8); !errors.Is(err, ErrVersion) {
		t.Errorf("decoder version: %v", err)
	}
}

func TestParseAddr(t *testing.T) {
	for _, a := range []string{"unix:/tmp/x.sock", "127.0.0.1:9000", "tcp:127.0.0.1:9000", "[::1]:9000", ":9000"} {
		if _, _, err := ParseAddr(a); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
	for _, a := range []string{"unix:", "nohost", "127.0.0.1:0", "unix:/" + strings.Repeat("x", 200)} {
		if _, _, err := ParseAddr(a); !errors.Is(err, ErrBadAddr) {
			t.Errorf("%s: %v", a, err)
		}
	}
}

// FuzzDecoder feeds arbitrary bytes to the record Decoder, whole and in
// pieces (the same records must come out), and the contents of
// PARAMS-like records to ParsePairs.
func FuzzDecoder(f *testing.F) {
	var b []byte
	b = AppendBeginRequest(b, 1, RoleResponder, FlagKeepConn)
	b = AppendStream(b, TypeParams, 1, AppendPair(AppendPair(nil, "A", "b"), strings.Repeat("k", 130), "v"))
	b, _ = AppendRecord(b, TypeParams, 1, nil)
	b = AppendStream(b, TypeStdout, 1, []byte("Content-Type: text/plain\r\n\r\nhi"))
	b = AppendEndRequest(b, 1, 0, 0)
	f.Add(b, uint8(3))
	f.Add([]byte{1, 6, 0, 1, 0, 5, 3, 0, 'a', 'b'}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		whole, errW := decodeAll(data, len(data)+1)
		pieces, errP := decodeAll(data, int(step)+1)
		if (errW == nil) != (errP == nil) || whole != pieces {
			t.Fatalf("whole %v %q, pieces (%d) %v %q", errW, whole, step, errP, pieces)
		}
		n := 0
		err := ParsePairs(data, 4096, func(name, value []byte) error {
			n += len(name) + len(value)
			if len(name) > 4096 || len(value) > 4096 {
				t.Fatalf("pair over the limit")
			}
			return nil
		})
		if err == nil && n > len(data) {
			t.Fatalf("pairs longer than the input")
		}
		// Whatever decoded whole re-encodes to pairs that decode alike.
		var re []byte
		if ParsePairs(data, 4096, func(name, value []byte) error {
			re = AppendPair(re, string(name), string(value))
			return nil
		}) == nil {
			var again []byte
			if err := ParsePairs(re, 4096, func(name, value []byte) error {
				again = AppendPair(again, string(name), string(value))
				return nil
			}); err != nil || !bytes.Equal(re, again) {
				t.Fatalf("pairs do not round-trip: %v", err)
			}
		}
	})
}
