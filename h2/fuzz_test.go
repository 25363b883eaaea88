package h2

import (
	"bytes"
	"io"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// fuzzSeeds are client frame sequences after the preface and SETTINGS.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	add := func(build func(cl *client)) {
		cl := newClient()
		build(cl)
		seeds = append(seeds, append([]byte(nil), cl.buf.Bytes()...))
	}
	add(func(cl *client) { cl.headers(1, true, get("/")...) })
	add(func(cl *client) {
		cl.headers(1, false, append(post("/"), "content-length", "5")...)
		cl.fr.WriteData(1, true, []byte("hello"))
	})
	add(func(cl *client) {
		b := cl.block(get("/")...)
		cl.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: b[:4]})
		cl.fr.WriteContinuation(3, true, b[4:])
		cl.fr.WriteRSTStream(3, http2.ErrCodeCancel)
	})
	add(func(cl *client) {
		cl.fr.WritePing(false, [8]byte{1})
		cl.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1})
		cl.fr.WriteWindowUpdate(0, 1000)
		cl.fr.WritePriority(5, http2.PriorityParam{StreamDep: 5})
	})
	add(func(cl *client) {
		cl.headers(1, false, post("/")...)
		cl.fr.WriteDataPadded(1, false, []byte("ab"), make([]byte, 3))
		cl.headers(1, true, "grpc-status", "0")
		cl.fr.WriteGoAway(1, http2.ErrCodeNo, nil)
	})
	return seeds
}

// fuzzEvents answers every request and consumes every body byte, so that
// fuzzing reaches the write side too.
type fuzzEvents struct {
	c   *Conn
	out bytes.Buffer
}

func (e *fuzzEvents) Headers(id uint32, _ []hpack.HeaderField, end bool) {
	e.c.WriteHeaders(id, status("200"), false)
	e.c.WriteData(id, make([]byte, 100), end)
}
func (e *fuzzEvents) Data(id uint32, p []byte, _ bool) { e.c.Consumed(id, len(p)) }
func (e *fuzzEvents) Reset(uint32, http2.ErrCode)      {}
func (e *fuzzEvents) WindowOpened(id uint32)           { e.c.WriteData(id, make([]byte, 10), true) }
func (e *fuzzEvents) Output([]byte)                    {}
func (e *fuzzEvents) Closed(error)                     {}

// FuzzInput feeds arbitrary frames after a valid preface and SETTINGS,
// split where the first byte says: the Conn must not panic and must stay
// within its bounds.
func FuzzInput(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(byte(0), s)
		f.Add(byte(7), s)
	}
	f.Fuzz(func(t *testing.T, split byte, data []byte) {
		// Two Conns share a Loop and get the same input, chunk by chunk in
		// turn: they must write the same bytes.
		loop := NewLoop()
		cfg := Config{MaxHeaderBlock: 1 << 10, MaxConcurrentStreams: 4, InitialWindow: 1 << 10, Now: newClock().now}
		evs := []*fuzzEvents{{}, {}}
		for _, ev := range evs {
			ev.c = loop.NewConn(cfg, ev)
			ev.c.Input(newClient().start().buf.Bytes())
		}
		step := int(split)%64 + 1
		for len(data) > 0 {
			n := min(step, len(data))
			for _, ev := range evs {
				c := ev.c
				c.Input(data[:n])
				if len(c.in) > frameHeaderLen+int(c.cfg.MaxFrameSize) {
					t.Fatalf("partial frame buffer %d bytes", len(c.in))
				}
				if len(c.block) > c.cfg.MaxHeaderBlock {
					t.Fatalf("header block %d bytes", len(c.block))
				}
				if uint32(len(c.streams)) > c.cfg.MaxConcurrentStreams {
					t.Fatalf("%d streams", len(c.streams))
				}
			}
			data = data[n:]
		}
		for _, ev := range evs {
			ev.c.Tick(ev.c.now().Add(ev.c.cfg.StallTimeout * 2))
			ev.c.Shutdown()
		}
		if !bytes.Equal(evs[0].out.Bytes(), evs[1].out.Bytes()) {
			t.Fatalf("two Conns on one Loop wrote different bytes for the same input")
		}
		// Everything a Conn wrote must parse.
		fr := http2.NewFramer(nil, &evs[0].out)
		fr.SetMaxReadFrameSize(1<<24 - 1)
		for {
			if _, err := fr.ReadFrame(); err != nil {
				if err != io.EOF {
					t.Fatalf("output does not parse: %v", err)
				}
				break
			}
		}
	})
}
