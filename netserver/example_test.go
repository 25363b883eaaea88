package netserver_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/uringnet/uringnet/netserver"
)

// upper answers every read with its bytes in upper case.
type upper struct {
	netserver.NopHandler
	s *netserver.Server
}

func (u *upper) RawRead(data []byte, c netserver.ClientNum, failed bool) {
	if failed {
		return
	}
	out := make([]byte, len(data)) // data is valid during the call only
	for i, b := range data {
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		out[i] = b
	}
	u.s.Send(c, out)
}

// A raw TCP server: the handler embeds NopHandler and overrides RawRead.
func Example() {
	h := &upper{}
	s, err := netserver.New(netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1}, h)
	if err != nil {
		fmt.Println(err)
		return
	}
	h.s = s
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()

	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	conn.Write([]byte("hello, io_uring"))
	reply := make([]byte, 15)
	io.ReadFull(conn, reply)
	conn.Close()
	fmt.Printf("%s\n", reply)

	s.Shutdown(context.Background())
	fmt.Println(<-done)
	// Output:
	// HELLO, IO_URING
	// netserver: server closed
}

// A linked group: the two writes and the close run in order, and if one
// fails the rest are cancelled (reported with failed=true).
func ExampleGroup() {
	h := &grouped{}
	s, err := netserver.New(netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1}, h)
	if err != nil {
		fmt.Println(err)
		return
	}
	h.s = s
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(conn) // until the group's close
	conn.Close()
	fmt.Printf("%q\n", b)
	s.Shutdown(context.Background())
	<-done
	// Output: "header;body"
}

var header, body = []byte("header;"), []byte("body")

type grouped struct {
	netserver.NopHandler
	s *netserver.Server
}

func (g *grouped) Accept(c netserver.ClientNum) {
	grp := g.s.NewGroup()
	grp.QueueWrite(c, header) // must not change until its RawWrite callback
	grp.QueueWrite(c, body)
	grp.QueueClose(c)
	grp.Submit()
}

// A custom event fired from another goroutine reaches EventTrigger on the
// loop, with the info given to EventPrepare.
func ExampleServer_EventTrigger() {
	h := &events{got: make(chan uint64, 1)}
	s, err := netserver.New(netserver.Config{Loops: 1}, h) // no listeners: events only
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	var ev netserver.ClientNum
	for ev == 0 { // EventOpen needs the loops running
		if ev, err = s.EventOpen(); err != nil {
			time.Sleep(time.Millisecond)
		}
	}
	s.EventPrepare(ev, 42)
	go s.EventTrigger(ev)
	fmt.Println("info:", <-h.got)
	s.Shutdown(context.Background())
	<-done
	// Output: info: 42
}

type events struct {
	netserver.NopHandler
	got chan uint64
}

func (e *events) EventTrigger(c netserver.ClientNum, info uint64) {
	select {
	case e.got <- info:
	default: // never block the loop
	}
}
