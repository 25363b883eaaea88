package h2_test

import (
	"bytes"
	"fmt"

	"github.com/uringnet/uringnet/h2"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// owner answers every request with "hello" and collects the output that a
// server would send on the socket.
type owner struct {
	conn *h2.Conn
	out  bytes.Buffer
}

func (o *owner) Headers(id uint32, fields []hpack.HeaderField, end bool) {
	for _, f := range fields {
		fmt.Printf("request %d %s: %s\n", id, f.Name, f.Value)
	}
	o.conn.WriteHeaders(id, []hpack.HeaderField{{Name: ":status", Value: "200"}}, false)
	o.conn.WriteData(id, []byte("hello"), true)
}
func (o *owner) Data(id uint32, p []byte, end bool)  { o.conn.Consumed(id, len(p)) }
func (o *owner) Reset(id uint32, code http2.ErrCode) {}
func (o *owner) WindowOpened(id uint32)              {}
func (o *owner) Output(b []byte)                     { o.out.Write(b) }
func (o *owner) Closed(err error)                    { fmt.Println("closed:", err) }

func Example() {
	o := &owner{}
	o.conn = h2.NewConn(h2.Config{}, o)

	// What a client sends: the preface, SETTINGS, a GET.
	var in, block bytes.Buffer
	in.WriteString(h2.ClientPreface)
	fr := http2.NewFramer(&in, nil)
	fr.WriteSettings()
	enc := hpack.NewEncoder(&block)
	for _, f := range []hpack.HeaderField{
		{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"},
		{Name: ":path", Value: "/"}, {Name: ":authority", Value: "example.com"},
	} {
		enc.WriteField(f)
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true})

	if err := o.conn.Input(in.Bytes()); err != nil {
		fmt.Println(err)
	}
	o.conn.Shutdown()

	// What the server sent.
	rd := http2.NewFramer(nil, &o.out)
	for {
		f, err := rd.ReadFrame()
		if err != nil {
			break
		}
		fmt.Println(f.Header().Type, f.Header().StreamID)
	}
	// Output:
	// request 1 :method: GET
	// request 1 :scheme: https
	// request 1 :path: /
	// request 1 :authority: example.com
	// SETTINGS 0
	// WINDOW_UPDATE 0
	// SETTINGS 0
	// HEADERS 1
	// DATA 1
	// GOAWAY 0
	// PING 0
}
