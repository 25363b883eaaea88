package h2

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// recorder implements Events, recording what it is told as strings.
type recorder struct {
	out    bytes.Buffer
	events []string
	fields map[uint32][]hpack.HeaderField
	body   map[uint32][]byte
	closed int
	err    error

	conn      *Conn
	consume   bool // call Consumed from Data
	onHeaders func(id uint32, end bool)
	onWindow  func(id uint32)
}

func (r *recorder) Headers(id uint32, fields []hpack.HeaderField, end bool) {
	if r.fields == nil {
		r.fields = map[uint32][]hpack.HeaderField{}
	}
	r.fields[id] = append([]hpack.HeaderField(nil), fields...)
	r.events = append(r.events, fmt.Sprintf("headers %d end=%v", id, end))
	if r.onHeaders != nil {
		r.onHeaders(id, end)
	}
}

func (r *recorder) Data(id uint32, p []byte, end bool) {
	if r.body == nil {
		r.body = map[uint32][]byte{}
	}
	r.body[id] = append(r.body[id], p...)
	r.events = append(r.events, fmt.Sprintf("data %d %d end=%v", id, len(p), end))
	if r.consume {
		r.conn.Consumed(id, len(p))
	}
}

func (r *recorder) Reset(id uint32, code http2.ErrCode) {
	r.events = append(r.events, fmt.Sprintf("reset %d %v", id, code))
}

func (r *recorder) WindowOpened(id uint32) {
	r.events = append(r.events, fmt.Sprintf("window %d", id))
	if r.onWindow != nil {
		r.onWindow(id)
	}
}

func (r *recorder) Output(b []byte) { r.out.Write(b) }

func (r *recorder) Closed(err error) {
	r.closed++
	r.err = err
	r.events = append(r.events, fmt.Sprintf("closed %v", code(err)))
}

// code is the error code of a *ConnError, or "nil".
func code(err error) string {
	if e, ok := err.(*ConnError); ok {
		return e.Code.String()
	}
	return fmt.Sprint(err)
}

// client builds the bytes a peer sends.
type client struct {
	buf bytes.Buffer
	fr  *http2.Framer
	hb  bytes.Buffer
	enc *hpack.Encoder
}

func newClient() *client {
	cl := &client{}
	cl.fr = http2.NewFramer(&cl.buf, nil)
	cl.fr.AllowIllegalWrites = true
	cl.enc = hpack.NewEncoder(&cl.hb)
	return cl
}

// start writes the preface and an empty SETTINGS.
func (cl *client) start(s ...http2.Setting) *client {
	cl.buf.WriteString(ClientPreface)
	cl.fr.WriteSettings(s...)
	return cl
}

// block HPACK-encodes "name", "value" pairs.
func (cl *client) block(kv ...string) []byte {
	cl.hb.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		cl.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return append([]byte(nil), cl.hb.Bytes()...)
}

// headers writes a whole header block in one HEADERS frame.
func (cl *client) headers(id uint32, end bool, kv ...string) {
	cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: cl.block(kv...), EndStream: end, EndHeaders: true})
}

// get is a GET request's fields.
func get(path string) []string {
	return []string{":method", "GET", ":scheme", "https", ":path", path, ":authority", "example.com"}
}

func post(path string) []string {
	return []string{":method", "POST", ":scheme", "https", ":path", path, ":authority", "example.com"}
}

// feed gives b to c in the split named by mode: "whole", "bytes" or
// "random".
func feed(c *Conn, b []byte, mode string, rng *rand.Rand) error {
	var err error
	switch mode {
	case "whole":
		return c.Input(b)
	case "bytes":
		for i := range b {
			err = c.Input(b[i : i+1])
		}
	default:
		for len(b) > 0 {
			n := min(len(b), 1+rng.Intn(40))
			err = c.Input(b[:n])
			b = b[n:]
		}
	}
	return err
}

var modes = []string{"whole", "bytes", "random"}

// frames decodes what the Conn wrote into one line per frame.
func frames(t testing.TB, b []byte) []string {
	t.Helper()
	fr := http2.NewFramer(nil, bytes.NewReader(b))
	fr.SetMaxReadFrameSize(1<<24 - 1)
	dec := hpack.NewDecoder(4096, nil)
	var out []string
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("reading output: %v", err)
			}
			return out
		}
		out = append(out, summarize(f, dec))
	}
}

func summarize(f http2.Frame, dec *hpack.Decoder) string {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return "SETTINGS ACK"
		}
		return "SETTINGS"
	case *http2.WindowUpdateFrame:
		return fmt.Sprintf("WINDOW_UPDATE %d %d", f.StreamID, f.Increment)
	case *http2.PingFrame:
		return fmt.Sprintf("PING ack=%v %s", f.IsAck(), f.Data[:])
	case *http2.GoAwayFrame:
		return fmt.Sprintf("GOAWAY %d %v", f.LastStreamID, f.ErrCode)
	case *http2.RSTStreamFrame:
		return fmt.Sprintf("RST_STREAM %d %v", f.StreamID, f.ErrCode)
	case *http2.HeadersFrame:
		fs, _ := dec.DecodeFull(f.HeaderBlockFragment())
		var kv []string
		for _, h := range fs {
			kv = append(kv, h.Name+"="+h.Value)
		}
		return fmt.Sprintf("HEADERS %d end=%v %s", f.StreamID, f.StreamEnded(), strings.Join(kv, " "))
	case *http2.DataFrame:
		return fmt.Sprintf("DATA %d %d end=%v", f.StreamID, len(f.Data()), f.StreamEnded())
	}
	return fmt.Sprintf("%v", f.Header().Type)
}

// after strips the handshake (our SETTINGS, the connection
// WINDOW_UPDATE if any, the ACK of the client's SETTINGS) from frames.
func after(t testing.TB, got []string) []string {
	t.Helper()
	rest := got
	ok := len(rest) > 0 && rest[0] == "SETTINGS"
	if ok {
		rest = rest[1:]
	}
	if len(rest) > 0 && strings.HasPrefix(rest[0], "WINDOW_UPDATE 0 ") {
		rest = rest[1:]
	}
	if !ok || len(rest) == 0 || rest[0] != "SETTINGS ACK" {
		t.Fatalf("handshake: got %q", got)
	}
	return rest[1:]
}

// clock is a settable Config.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClock() *clock { return &clock{t: time.Unix(1e9, 0)} }

// newConn makes a Conn reporting to a new recorder.
func newConn(cfg Config) (*Conn, *recorder) {
	r := &recorder{}
	c := NewConn(cfg, r)
	r.conn = c
	return c, r
}
