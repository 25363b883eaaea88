package sendfile_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/sendfile"
)

// fileServer sends one file to every client that connects, then closes it.
type fileServer struct {
	netserver.NopHandler
	s      *netserver.Server
	sender *sendfile.Sender
	path   string
}

func (h *fileServer) Accept(c netserver.ClientNum) {
	f, err := os.Open(h.path)
	if err != nil {
		h.s.RawClose(c)
		return
	}
	fi, _ := f.Stat()
	// Bytes 6 to the end: the transfer splices them from the file to the
	// socket on the ring, in the client's output stream.
	t := h.sender.Transfer(f, 6, fi.Size()-6, func(failed bool) {
		f.Close() // runs on the loop once the transfer has ended
		h.s.RawClose(c)
	})
	if err := h.s.QueueOp(c, t); err != nil {
		f.Close()
	}
}

// A file range sent with a Transfer queued as a netserver.Op.
func Example() {
	dir, _ := os.MkdirTemp("", "sendfile-example-")
	defer os.RemoveAll(dir)
	path := dir + "/file.txt"
	os.WriteFile(path, []byte("skip: spliced from the page cache"), 0o644)

	h := &fileServer{path: path}
	s, err := netserver.New(netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1}, h)
	if err != nil {
		fmt.Println(err)
		return
	}
	h.s, h.sender = s, sendfile.New(s.Loops(), sendfile.Config{})
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()

	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(conn)
	conn.Close()
	fmt.Printf("%q\n", b)

	s.Shutdown(context.Background())
	<-done
	h.sender.Close() // after the loops have stopped
	fmt.Println("transfers:", h.sender.Stats().Transfers)
	// Output:
	// "spliced from the page cache"
	// transfers: 1
}
