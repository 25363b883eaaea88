package http_test

import (
	"context"
	"fmt"
	"io"
	nethttp "net/http"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// hello answers every request from the event loop.
type hello struct {
	http.NopHTTPHandler
	s *http.Server
}

func (h *hello) HTTPRead(req *http.Request, c netserver.ClientNum, failed bool) {
	if string(req.Path) != "/hello" {
		h.s.RespondError(c, 404)
		return
	}
	h.s.Respond(c, 200, "text/plain", []byte("Hello, World!"))
}

// An HTTP server: the handler embeds NopHTTPHandler and answers in
// HTTPRead.
func Example() {
	h := &hello{}
	s, err := http.NewServer(http.Config{Net: netserver.Config{Addrs: []string{"127.0.0.1:0"}, Loops: 1}}, h)
	if err != nil {
		fmt.Println(err)
		return
	}
	h.s = s
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()

	client := &nethttp.Client{Transport: &nethttp.Transport{}}
	for _, path := range []string{"/hello", "/missing"} {
		resp, err := client.Get("http://" + s.Addr().String() + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			fmt.Println(resp.Status, resp.Header.Get("Content-Type"), string(body))
		} else {
			fmt.Println(resp.Status)
		}
	}
	client.CloseIdleConnections()
	s.Shutdown(context.Background())
	<-done
	// Output:
	// 200 OK text/plain Hello, World!
	// 404 Not Found
}

// The parser works on its own, like net/textproto: n is the length of the
// head, and the body starts at buf[n:].
func ExampleParse() {
	buf := []byte("POST /echo?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\nping")
	var req http.Request
	n, err := http.Parse(buf, &req, nil)
	fmt.Println(n, err)
	fmt.Printf("%s %s query=%s host=%s length=%d keep-alive=%v body=%q\n",
		req.Method, req.Path, req.Query, req.Host, req.ContentLength, req.KeepAlive, buf[n:])

	n, err = http.Parse([]byte("GET / HTTP/1.1\r\nHost: exa"), &req, nil)
	fmt.Println(n, err, "(incomplete: need more input)")
	// Output:
	// 65 <nil>
	// POST /echo query=x=1 host=example.com length=4 keep-alive=true body="ping"
	// 0 <nil> (incomplete: need more input)
}
