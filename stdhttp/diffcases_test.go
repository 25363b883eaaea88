package stdhttp_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// describe writes what a handler sees of r, the body read whole: the
// request side of the differential tests. RemoteAddr is shown by its form
// only, its port being the client's, different on every connection.
func describe(w io.Writer, r *http.Request) {
	fmt.Fprintf(w, "method %s\nrequest-uri %s\n", r.Method, r.RequestURI)
	fmt.Fprintf(w, "url %q path %q raw-path %q query %q\n", r.URL.String(), r.URL.Path, r.URL.RawPath, r.URL.RawQuery)
	fmt.Fprintf(w, "query-values %v\n", r.URL.Query())
	fmt.Fprintf(w, "proto %s %d.%d\nhost %s\n", r.Proto, r.ProtoMajor, r.ProtoMinor, r.Host)
	fmt.Fprintf(w, "content-length %d\ntransfer-encoding %q\nclose %v\n", r.ContentLength, r.TransferEncoding, r.Close)
	fmt.Fprintf(w, "remote-addr %s\n", addrForm(r.RemoteAddr))
	for _, f := range headerFields(r.Header) {
		fmt.Fprintf(w, "header %s\n", f)
	}
	fmt.Fprintf(w, "declared-trailer %v\n", sortedKeys(r.Trailer))
	b, err := io.ReadAll(r.Body)
	fmt.Fprintf(w, "body %s err %v\n", renderBody(b), errClass(err))
	for _, f := range headerFields(r.Trailer) {
		fmt.Fprintf(w, "trailer %s\n", f)
	}
	fmt.Fprintf(w, "context %v\n", r.Context().Err())
}

// addrForm checks that a is "127.0.0.1:port" and hides the port.
func addrForm(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "unparsable " + strconv.Quote(a)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return host + ":bad port " + strconv.Quote(port)
	}
	return host + ":<port>"
}

func sortedKeys(h http.Header) []string {
	var k []string
	for key := range h {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

// echo is the handler that describes the request.
var echo = hf(func(w http.ResponseWriter, r *http.Request) { describe(w, r) })

// text is a handler writing s.
func text(s string) func(*probe) http.Handler {
	return hf(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) })
}

// get is a GET of target.
func get(target string, header ...[2]string) *reqSpec {
	return &reqSpec{target: target, header: header}
}

// fileServer serves the test files.
func fileServer() func(*probe) http.Handler {
	return func(*probe) http.Handler { return http.FileServer(http.Dir(filesDir())) }
}

// serveFile serves one test file with http.ServeFile, after the header
// fields h (an ETag for the If-None-Match cases).
func serveFile(name string, h ...[2]string) func(*probe) http.Handler {
	return hf(func(w http.ResponseWriter, r *http.Request) {
		for _, f := range h {
			w.Header().Set(f[0], f[1])
		}
		http.ServeFile(w, r, filesDir()+"/"+name)
	})
}

// hashBody answers with the length and hash of the request body, for the
// large uploads.
var hashBody = hf(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	fmt.Fprintf(w, "%d bytes sha256 %x err %v\n", len(b), sha256.Sum256(b), errClass(err))
})

// pathEcho answers with the method and path (the pipelining cases); a
// request for /slow first waits a little, so that a server answering out
// of order would likely show it (no assertion rests on the wait).
var pathEcho = func(p *probe) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.note("served %s %s", r.Method, r.URL.Path)
		if r.URL.Path == "/slow" {
			time.Sleep(50 * time.Millisecond)
		}
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s body %q\n", r.Method, r.URL.Path, b)
	})
}

// bigResponse is the body of the large-response cases (over 1 MiB).
var bigResponse = pattern(3<<20 + 7)

// writeIn writes s in pieces of n bytes.
func writeIn(w io.Writer, s string, n int) {
	for len(s) > 0 {
		k := min(n, len(s))
		w.Write([]byte(s[:k]))
		s = s[k:]
	}
}

// reasonRequests is a pipeline of requests for the codes given, asked for
// in the query.
func reasonRequests(codes ...int) string {
	var b strings.Builder
	for _, c := range codes {
		fmt.Fprintf(&b, "GET /?code=%d HTTP/1.1\r\nHost: a\r\n\r\n", c)
	}
	return b.String()
}

// The raw requests of the strictness cases differ from a valid request in
// one point each.
const okHead = "GET / HTTP/1.1\r\nHost: example.com\r\n"

// diffCases returns the differential cases.
func diffCases() []diffCase {
	return []diffCase{
		// Responses: status, headers, bodies.
		{name: "Hello", handler: text("hello"), req: get("/")},
		{name: "EmptyBody", handler: hf(func(http.ResponseWriter, *http.Request) {}), req: get("/")},
		{name: "WriteHeader201", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "created")
		}), req: &reqSpec{method: "POST", target: "/things", body: "x"}},
		{name: "WriteHeader204WithWrite", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
				_, err := io.WriteString(w, "not allowed")
				p.note("write after 204: ErrBodyNotAllowed %v", errors.Is(err, http.ErrBodyNotAllowed))
			})
		}, req: get("/")},
		{name: "WriteHeader204", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}), req: get("/")},
		{name: "WriteHeader304", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"x"`)
			w.WriteHeader(http.StatusNotModified)
		}), req: get("/")},
		{name: "WriteHeader404NoBody", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
		}), req: get("/")},
		{name: "WriteHeaderUnknownCode", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(299)
			io.WriteString(w, "odd")
		}), req: get("/")},
		{name: "WriteHeaderTwice", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			w.WriteHeader(http.StatusInternalServerError) // superfluous: ignored
			io.WriteString(w, "accepted")
		}), req: get("/")},
		{name: "HeaderAfterWriteHeaderIgnored", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Before", "1")
			w.WriteHeader(http.StatusOK)
			w.Header().Set("X-After", "2") // too late: not sent
			io.WriteString(w, "body")
		}), req: get("/")},
		{name: "EarlyHints103", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Link", "</style.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Add("Link", "</script.js>; rel=preload; as=script")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "after hints")
		}), req: get("/")},
		{name: "EarlyHints103Raw", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			io.WriteString(w, "final")
		}), raw: []step{send(okHead + "\r\n"), read("GET")}},
		{name: "ResponseHeaderCase", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["x-raw-lower"] = []string{"kept as written"}
			w.Header().Set("x-set-lower", "canonicalised by Set")
			io.WriteString(w, "ok")
		}), req: get("/")},
		{name: "ResponseMultipleValues", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("X-Multi", "one")
			w.Header().Add("X-Multi", "two")
			http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
			http.SetCookie(w, &http.Cookie{Name: "b", Value: "2", Path: "/", HttpOnly: true})
			io.WriteString(w, "ok")
		}), req: get("/")},
		{name: "SniffHTML", handler: text("<html><body>hi</body></html>"), req: get("/")},
		{name: "SniffPNG", handler: text("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), req: get("/")},
		{name: "SniffAfterSmallWrites", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<!DOC")
			io.WriteString(w, "TYPE html><p>split</p>")
		}), req: get("/")},
		{name: "ContentTypeSetNotSniffed", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-custom")
			io.WriteString(w, "<html>")
		}), req: get("/")},
		{name: "ContentTypeSuppressed", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			io.WriteString(w, "<html>")
		}), req: get("/")},
		{name: "ContentLengthByHandler", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		}), req: get("/")},
		{name: "ContentLengthLargeByHandler", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(bigResponse)))
			writeIn(w, bigResponse, 100<<10)
		}), req: get("/")},
		{name: "ContentLengthShortWrite", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "hello") // 5 short: the client sees the body cut
		}), req: get("/")},
		{name: "ContentLengthOverWrite", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "3")
				n, err := io.WriteString(w, "hello")
				p.note("wrote %d, ErrContentLength %v", n, errors.Is(err, http.ErrContentLength))
			})
		}, req: get("/")},
		{name: "SmallWritesContentLength", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			writeIn(w, pattern(1500), 100) // under net/http's 2 KiB buffer: one Content-Length response
		}), req: get("/")},
		{name: "LargeWriteChunked", handler: text(pattern(3000)), req: get("/")},
		{name: "LargeResponseChunked", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			writeIn(w, bigResponse, 64<<10)
		}), req: get("/")},
		{name: "WriteNil", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Write(nil)
		}), req: get("/")},
		{name: "HugeResponseHeader", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Huge", strings.Repeat("h", 100<<10))
			io.WriteString(w, "after a large head")
		}), req: get("/")},
		{name: "ReadFromReader", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(w, strings.NewReader(bigResponse)) // io.ReaderFrom with a reader that is no file
		}), req: get("/")},
		{name: "ReadFromFileLimited", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(filesDir() + "/big.bin")
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer f.Close()
			f.Seek(1000, io.SeekStart)
			w.Header().Set("Content-Length", "1100000")
			io.CopyN(w, f, 1100000) // an *io.LimitedReader over the file
		}), req: get("/")},
		// The client reads nothing for a while: the server's writes wait
		// for it (no assertion on the wait; the response must be whole).
		{name: "BackpressureBigResponse", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			writeIn(w, bigResponse, 256<<10)
		}), raw: []step{send(okHead + "\r\n"), pause(300 * time.Millisecond), read("GET")}},
		{name: "BackpressureBigFile", handler: fileServer(), raw: []step{
			send("GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n"), pause(300 * time.Millisecond), read("GET")}},
		{name: "WriteAfterDisconnect", notes: 3,
			handler: func(p *probe) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					p.note("started")
					<-r.Context().Done() // the client went away
					var err error
					written := 0
					for written < 64<<20 && err == nil {
						var n int
						n, err = w.Write([]byte(bigResponse[:64<<10]))
						w.(http.Flusher).Flush()
						written += n
					}
					p.note("a write failed: %v", err != nil)
					p.note("context: %v", r.Context().Err())
				})
			}, req: &reqSpec{target: "/", hangUpAfter: 1}},
		{name: "HTTPError", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "I'm a teapot", http.StatusTeapot)
		}), req: get("/")},
		{name: "NotFound", handler: hf(http.NotFound), req: get("/nowhere")},
		{name: "RedirectRelative", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "../other?x=1", http.StatusFound)
		}), req: get("/a/b/c?q=2")},
		{name: "RedirectAbsolute301", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://example.org/new", http.StatusMovedPermanently)
		}), req: get("/old")},
		{name: "RedirectHEAD", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusSeeOther)
		}), req: &reqSpec{method: "HEAD", target: "/"}},

		{name: "ReasonPhrases", differs: "reason phrases: uringnet's table (RFC 9110 wording, none for 299/418/425/511/599) where net/http has http.StatusText or \"status code N\"", view: view{reasons: true}, handler: hf(func(w http.ResponseWriter, r *http.Request) {
			code, _ := strconv.Atoi(r.URL.Query().Get("code"))
			w.WriteHeader(code)
		}), raw: []step{send(reasonRequests(200, 299, 404, 413, 416, 418, 422, 425, 451, 511, 599)),
			read("GET"), read("GET"), read("GET"), read("GET"), read("GET"), read("GET"),
			read("GET"), read("GET"), read("GET"), read("GET"), read("GET")}},
		{name: "HandlerSetsTransferEncoding", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Transfer-Encoding", "chunked")
			io.WriteString(w, "small but chunked")
		}), req: get("/")},
		{name: "HandlerSetsServerHeader", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Server", "custom/1.0")
			w.Header().Set("X-Empty", "")
			io.WriteString(w, "ok")
		}), req: get("/")},
		{name: "ManyResponseHeaders", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			for i := range 100 {
				w.Header().Set(fmt.Sprintf("X-H%03d", i), strings.Repeat("v", 100))
			}
			io.WriteString(w, "ok")
		}), req: get("/")},
		{name: "MaxBytesReader", differs: "after http.MaxBytesReader's limit is hit net/http closes the connection (Connection: close); the adapter keeps it", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Body = http.MaxBytesReader(w, r.Body, 10)
				_, err := io.ReadAll(r.Body)
				var mbe *http.MaxBytesError
				p.note("MaxBytesError %v", errors.As(err, &mbe))
				http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			})
		}, req: &reqSpec{method: "POST", target: "/", body: strings.Repeat("x", 100)}},

		{name: "ResponseHeaderInjection", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Inj", "a\r\nInjected: yes")
			w.Header()["X Bad Name"] = []string{"v"}
			w.Header()["X-Colon:Name"] = []string{"v"}
			io.WriteString(w, "ok")
		}), req: get("/")},
		// net/http's WriteHeader panics on a code out of 100-999; the
		// adapter's panic answer (500, as for PanicBeforeWrite) follows.
		{name: "WriteHeaderInvalidCode", stdCode: 0, adapterCode: 500, handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(1000) // net/http panics: an invalid code
			io.WriteString(w, "never")
		}), req: get("/")},

		// Streaming and Flush.
		{name: "StreamFlushes", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			for i := range 5 {
				fmt.Fprintf(w, "part %d\n", i)
				w.(http.Flusher).Flush()
			}
		}), req: get("/")},
		{name: "FlushReachesClient", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "first;")
				w.(http.Flusher).Flush()
				// Released only once the client has read "first;": a
				// server that does not flush leaves this waiting.
				p.note("released %v", p.awaitRelease())
				io.WriteString(w, "second")
			})
		}, req: &reqSpec{target: "/", releaseOn: "first;"}},
		{name: "FlushBeforeWrite", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Early", "1")
			w.(http.Flusher).Flush()
		}), req: get("/")},
		{name: "ResponseController", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				e1 := rc.SetWriteDeadline(time.Now().Add(ioTimeout))
				e2 := rc.SetReadDeadline(time.Now().Add(ioTimeout))
				io.WriteString(w, "via controller")
				e3 := rc.Flush()
				p.note("write deadline %v, read deadline %v, flush %v", e1, e2, e3)
			})
		}, req: get("/")},

		{name: "ReadBodyAfterFlush", notes: 1, differs: "the body can still be read after a Flush (net/http: \"http: invalid Read on closed Body\" unless EnableFullDuplex)", handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "flushed first;")
				w.(http.Flusher).Flush()
				b, err := io.ReadAll(r.Body)
				p.note("body after flush %q: %v", b, err)
			})
		}, rawOnly: true, req: &reqSpec{method: "POST", target: "/", body: "small body"}},
		{name: "EnableFullDuplex", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				err := http.NewResponseController(w).EnableFullDuplex()
				p.note("EnableFullDuplex: %v", err)
				io.WriteString(w, "first;")
				w.(http.Flusher).Flush()
				b, err := io.ReadAll(r.Body)
				fmt.Fprintf(w, "body %q %v", b, err)
			})
		}, req: &reqSpec{method: "POST", target: "/", body: "duplex body"}},

		{name: "ReadDeadlinePast", notes: 1, racy: true,
			differs: "with the read deadline already past, body bytes that came with the head may not have reached the handler's buffer yet (the handler runs beside the loop); net/http's bufio has them",
			handler: func(p *probe) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(-time.Second))
					b, rerr := io.ReadAll(r.Body)
					p.note("set %v; read %q, ErrDeadlineExceeded %v", err, b, errors.Is(rerr, os.ErrDeadlineExceeded))
					io.WriteString(w, "answered")
				})
			}, raw: []step{send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab"), read("POST")}},
		{name: "WriteDeadlinePast", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				err := rc.SetWriteDeadline(time.Now().Add(-time.Second))
				io.WriteString(w, "never sent")
				ferr := rc.Flush()
				p.note("set %v; flush ErrDeadlineExceeded %v", err, errors.Is(ferr, os.ErrDeadlineExceeded))
			})
		}, req: get("/")},

		// Trailers.
		{name: "TrailerDeclared", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Sum, X-Count")
			io.WriteString(w, "body with trailers")
			w.Header().Set("X-Sum", "abc")
			w.Header().Set("X-Count", "2")
		}), req: get("/")},
		{name: "TrailerPrefix", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "undeclared trailer")
			w.(http.Flusher).Flush()
			w.Header().Set(http.TrailerPrefix+"X-Late", "late value")
		}), req: get("/")},
		{name: "TrailerDeclaredNotSet", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Never")
			io.WriteString(w, "declared, never given")
		}), req: get("/")},

		// Request bodies.
		{name: "PostBody", handler: echo, req: &reqSpec{method: "POST", target: "/echo", body: "a=1&b=2",
			header: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}}},
		{name: "ChunkedUpload", handler: echo, req: &reqSpec{method: "POST", target: "/", body: "hello, chunked world", chunked: true}},
		{name: "ChunkedUploadTrailers", differs: "r.Trailer stays nil (no declared keys before the body, no values after it) and Trailer stays in r.Header", handler: echo, req: &reqSpec{method: "PUT", target: "/", body: "with trailers", chunked: true,
			header: [][2]string{{"Trailer", "X-Checksum"}}, trailer: [][2]string{{"X-Checksum", "c0ffee"}}}},
		{name: "LargeUpload", handler: hashBody, req: &reqSpec{method: "POST", target: "/", body: pattern(2<<20 + 3)}},
		{name: "LargeChunkedUpload", handler: hashBody, req: &reqSpec{method: "POST", target: "/", body: pattern(2<<20 + 5), chunked: true}},
		{name: "UploadUnread", handler: text("not reading your body"),
			req: &reqSpec{method: "POST", target: "/", body: pattern(100 << 10)}},
		{name: "FormValues", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "a=%q b=%q q=%q err=%v", r.FormValue("a"), r.PostFormValue("b"), r.FormValue("q"), r.ParseForm())
		}), req: &reqSpec{method: "POST", target: "/?q=query", body: "a=1&b=two+words",
			header: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}}},

		// 100-continue.
		// net/http sends 100 Continue when the handler reads the body
		// before writing anything (hashBody), not after.
		{name: "ExpectContinueRead", handler: hashBody, clientOnly: true, req: &reqSpec{method: "POST", target: "/", body: "after continue",
			header: [][2]string{{"Expect", "100-continue"}}}},
		{name: "ExpectContinueNotRead", handler: text("no thanks"), clientOnly: true, req: &reqSpec{method: "POST", target: "/",
			body: "never sent", header: [][2]string{{"Expect", "100-continue"}}}},
		{name: "ExpectContinueReadRaw", handler: hashBody, raw: []step{
			send("POST / HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"),
			read1xx(), send("hello"), read("POST")}},
		{name: "ExpectContinueNotReadRaw", handler: text("no thanks"), raw: []step{
			send("POST / HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"),
			// net/http announces the close but, before closing, reads the
			// body the client may send anyway.
			read("POST"), send("hello"), expectClosed()}},
		{name: "ExpectContinueChunked", handler: hashBody, clientOnly: true, req: &reqSpec{method: "POST", target: "/",
			body: "chunked after continue", chunked: true, header: [][2]string{{"Expect", "100-continue"}}}},
		{name: "ExpectContinueChunkedRaw", handler: hashBody, raw: []step{
			send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"),
			read1xx(), send("5\r\nhello\r\n0\r\n\r\n"), read("POST")}},
		{name: "ExpectContinueBodySentAnyway", differs: "no 100 Continue when the body arrived with the head (RFC 9110 §10.1.1 allows omitting it; net/http sends it)", handler: hashBody, raw: []step{
			send("POST / HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"),
			read("POST")}},

		// HEAD.
		{name: "HEADSmall", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, err := io.WriteString(w, "hello")
				p.note("HEAD write: %d %v", n, err)
			})
		}, req: &reqSpec{method: "HEAD", target: "/"}},
		{name: "HEADLarge", handler: text(pattern(10000)), req: &reqSpec{method: "HEAD", target: "/"}},
		{name: "HEADContentLength", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1234")
		}), req: &reqSpec{method: "HEAD", target: "/"}},

		// Panics.
		// net/http closes the connection without a response when a handler
		// panics; the adapter answers 500 when nothing was written (its
		// documented behaviour, the requirement).
		{name: "PanicBeforeWrite", handler: hf(func(w http.ResponseWriter, r *http.Request) { panic("boom") }),
			req: get("/"), stdCode: 0, adapterCode: 500},
		{name: "PanicAfterFlush", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic("boom")
		}), req: get("/")},
		{name: "PanicAbortHandler", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}), req: get("/")},
		{name: "PanicAbortHandlerAfterFlush", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}), req: get("/")},

		// Nothing reached the client yet (the write is buffered, the status
		// not flushed): the adapter still answers 500, dropping what the
		// handler wrote, where net/http closes.
		{name: "PanicAfterSmallWrite", stdCode: 0, adapterCode: 500, handler: hf(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "buffered, never flushed")
			panic("boom")
		}), req: get("/")},
		{name: "PanicAfterWriteHeader", stdCode: 0, adapterCode: 500, handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			panic("boom")
		}), req: get("/")},

		// Hijack.
		{name: "HijackEcho", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, brw, err := w.(http.Hijacker).Hijack()
				if err != nil {
					p.note("hijack: %v", err)
					return
				}
				defer c.Close()
				p.note("hijacked: remote %s local %s", addrForm(c.RemoteAddr().String()), addrForm(c.LocalAddr().String()))
				c.SetDeadline(time.Now().Add(ioTimeout))
				line, err := brw.ReadString('\n') // sent with the request
				reply := "pong: " + line
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nX-Hijacked: yes\r\nContent-Length: %d\r\n\r\n%s", len(reply), reply)
				_ = err
			})
		}, raw: []step{send(okHead + "\r\nping\n"), read("GET"), expectClosed()}},
		{name: "HijackUpgrade", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, brw, err := w.(http.Hijacker).Hijack()
				if err != nil {
					p.note("hijack: %v", err)
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(ioTimeout))
				io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
				line, err := brw.ReadString('\n')
				fmt.Fprintf(c, "echo: %s", line)
				p.note("read after upgrade: %q %v", line, err)
			})
		}, raw: []step{send(okHead + "Upgrade: echo\r\nConnection: Upgrade\r\n\r\n"), read("GET"), send("hello\n"), readToEOF()}},

		// The request's context.
		{name: "ContextCanceledOnDisconnect", notes: 2, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p.note("started, context %v", r.Context().Err())
				select {
				case <-r.Context().Done():
					p.note("context done: %v", r.Context().Err())
				case <-time.After(ioTimeout):
					p.note("context not done after %v", ioTimeout)
				}
			})
		}, req: &reqSpec{target: "/", hangUpAfter: 1}},
		{name: "ContextCanceledDuringBody", notes: 3, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p.note("started")
				b, err := io.ReadAll(r.Body)
				p.note("body %q: %s", b, errClass(err))
				select {
				case <-r.Context().Done():
					p.note("context done: %v", r.Context().Err())
				case <-time.After(ioTimeout):
					p.note("context not done after %v", ioTimeout)
				}
			})
		}, raw: []step{send("POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100\r\n\r\nonly some"), waitNotes(1), hangUp()}},
		{name: "ContextCanceledAfterReturn", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				go func() {
					select {
					case <-ctx.Done():
						p.note("context done after the handler returned: %v", ctx.Err())
					case <-time.After(ioTimeout):
						p.note("context not done after %v", ioTimeout)
					}
				}()
				io.WriteString(w, "returning")
			})
		}, req: get("/")},
		{name: "ContextValueBase", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			_, hasServer := r.Context().Value(http.ServerContextKey).(*http.Server)
			_, isAddr := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
			deadline, has := r.Context().Deadline()
			fmt.Fprintf(w, "local addr %v, deadline %v %v, err %v", isAddr, has, deadline.IsZero(), r.Context().Err())
			_ = hasServer // an *http.Server only net/http has
		}), req: get("/")},

		// Pipelining.
		{name: "PipelinedGETs", handler: pathEcho, notes: 3, raw: []step{
			send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n"),
			read("GET"), read("GET"), read("GET")}},
		{name: "PipelinedBodies", handler: pathEcho, notes: 3, raw: []step{
			send("POST /cl HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" +
				"POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n" +
				"GET /last HTTP/1.1\r\nHost: a\r\n\r\n"),
			read("POST"), read("POST"), read("GET")}},
		{name: "PipelinedSlowFirst", handler: pathEcho, notes: 3, raw: []step{
			send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\nHEAD /fast HTTP/1.1\r\nHost: a\r\n\r\nGET /fast HTTP/1.1\r\nHost: a\r\n\r\n"),
			read("GET"), read("HEAD"), read("GET")}},
		{name: "PipelinedUntilClose", handler: pathEcho, notes: 2, raw: []step{
			send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: a\r\n\r\n"),
			read("GET"), read("GET"), expectClosed()}},
		{name: "PipelinedLarge", handler: hashBody, raw: []step{
			sendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1500000\r\n\r\n" + pattern(1500000) +
				"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(pattern(1200000), 70000) + "\r\n"),
			read("POST"), read("POST")}},

		{name: "PipelinedMixed", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/stream":
				for i := range 3 {
					fmt.Fprintf(w, "piece %d;", i)
					w.(http.Flusher).Flush()
				}
			case "/hints":
				w.Header().Set("Link", "</a.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				io.WriteString(w, "hinted")
			case "/trailer":
				w.Header().Set("Trailer", "X-T")
				io.WriteString(w, "with trailer")
				w.Header().Set("X-T", "t")
			case "/big":
				writeIn(w, bigResponse[:200<<10], 16<<10)
			default:
				b, _ := io.ReadAll(r.Body)
				fmt.Fprintf(w, "%s %s %q", r.Method, r.URL.Path, b)
			}
		}), raw: []step{
			send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n" +
				"HEAD /stream HTTP/1.1\r\nHost: a\r\n\r\n" +
				"GET /hints HTTP/1.1\r\nHost: a\r\n\r\n" +
				"GET /big HTTP/1.1\r\nHost: a\r\n\r\n" +
				"GET /trailer HTTP/1.1\r\nHost: a\r\n\r\n" +
				"POST /post HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody" +
				"GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
			read("GET"), read("HEAD"), read("GET"), read("GET"), read("GET"), read("POST"), read("GET"), expectClosed()}},
		{name: "PipelinedExpectContinue", handler: hashBody, raw: []step{
			send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n" +
				"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"),
			read("GET"), read1xx(), send("hello"), read("POST")}},
		{name: "PartialBodyThenPipelined", handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b := make([]byte, 100)
				n, _ := io.ReadFull(r.Body, b) // the rest is left unread
				fmt.Fprintf(w, "%s %s read %d", r.Method, r.URL.Path, n)
			})
		}, raw: []step{
			send("POST /cl HTTP/1.1\r\nHost: a\r\nContent-Length: 10000\r\n\r\n" + pattern(10000) +
				"POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(pattern(5000), 1000) + "\r\n" +
				"GET /after HTTP/1.1\r\nHost: a\r\n\r\n"),
			read("POST"), read("POST"), read("GET")}},
		{name: "PipelinedAfterLargeBody", handler: hashBody, raw: []step{
			sendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1500000\r\n\r\n" + pattern(1500000) +
				"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
			read("POST"), read("GET")}},
		{name: "PipelinedLargeSecond", handler: hashBody, raw: []step{
			sendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n" +
				"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1500000\r\n\r\n" + pattern(1500000)),
			read("GET"), read("POST")}},

		// Timeouts.
		// A head that does not arrive within ReadHeaderTimeout: the server
		// gives up on the connection. Whether net/http answers 400 before
		// closing depends on where the deadline catches its reader (seen
		// both ways in the same run), so only the close is compared.
		{name: "ReadHeaderTimeoutTrickle", opts: serverOpts{readHeaderTimeout: 300 * time.Millisecond}, handler: text("never"),
			raw: []step{send("GET / HTTP/1.1\r\n"), send("Host: exa"), drainClosed()}},
		// A head trickled a byte at a time that never ends (a slowloris).
		{name: "ReadHeaderTimeoutSlowloris", opts: serverOpts{readHeaderTimeout: 300 * time.Millisecond}, handler: text("never"),
			raw: []step{trickle("GET / HTTP/1.1\r\nHost: example.com\r\nX-Slow: " + strings.Repeat("s", 200)), drainClosed()}},
		{name: "IdleTimeout", opts: serverOpts{idleTimeout: 300 * time.Millisecond}, handler: text("then idle"),
			raw: []step{send(okHead + "\r\n"), read("GET"), expectClosed()}},
		// A body that stops arriving: ReadTimeout ends it.
		{name: "ReadTimeoutBody", differs: "a body cut by ReadTimeout is answered 408 by the adapter; net/http hands the handler the read error (the handler answers 200 here)", opts: serverOpts{readTimeout: 500 * time.Millisecond}, handler: hashBody,
			raw: []step{send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"), read("POST")}},
		{name: "ReadHeaderTimeoutMet", opts: serverOpts{readHeaderTimeout: 5 * time.Second}, handler: text("in time"), req: get("/")},

		// A graceful shutdown while a handler runs: the handler finishes,
		// its response goes out, the connection is closed after it.
		{name: "ShutdownDuringHandler", notes: 2, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p.note("started")
				p.note("released %v", p.awaitRelease())
				io.WriteString(w, "finished")
			})
		}, raw: []step{send(okHead + "\r\n"), waitNotes(1), shutdown(), releaseHandler(), read("GET"), expectClosed()}},
		{name: "ShutdownContext", notes: 2, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				p.note("started")
				p.awaitRelease()
				p.note("context after the shutdown began: %v", r.Context().Err())
				io.WriteString(w, "finished")
			})
		}, raw: []step{send(okHead + "\r\n"), waitNotes(1), shutdown(), releaseHandler(), read("GET"), expectClosed()}},
		{name: "ShutdownIdleConnection", handler: text("before the shutdown"), raw: []step{
			send(okHead + "\r\n"), read("GET"), shutdown(), expectClosed()}},

		// Files.
		{name: "ServeFile", handler: serveFile("hello.txt"), req: get("/")},
		{name: "ServeFileRange", handler: serveFile("digits.txt"), req: get("/", [2]string{"Range", "bytes=2-5"})},
		{name: "ServeFileSuffixRange", handler: serveFile("digits.txt"), req: get("/", [2]string{"Range", "bytes=-4"})},
		{name: "ServeFileMultiRange", handler: serveFile("digits.txt"), req: get("/", [2]string{"Range", "bytes=0-1,5-7,30-"})},
		{name: "ServeFileRange416", handler: serveFile("digits.txt"), req: get("/", [2]string{"Range", "bytes=100-200"})},
		{name: "ServeFileIfNoneMatch304", handler: serveFile("hello.txt", [2]string{"ETag", `"v1"`}),
			req: get("/", [2]string{"If-None-Match", `"v0", "v1"`})},
		{name: "ServeFileIfNoneMatch200", handler: serveFile("hello.txt", [2]string{"ETag", `"v2"`}),
			req: get("/", [2]string{"If-None-Match", `"v1"`})},
		{name: "ServeFileIfModifiedSince304", handler: serveFile("hello.txt"),
			req: get("/", [2]string{"If-Modified-Since", fileTime.Format(http.TimeFormat)})},
		{name: "ServeFileIfModifiedSince200", handler: serveFile("hello.txt"),
			req: get("/", [2]string{"If-Modified-Since", fileTime.Add(-time.Hour).Format(http.TimeFormat)})},
		{name: "ServeFileIfUnmodifiedSince412", handler: serveFile("hello.txt"),
			req: get("/", [2]string{"If-Unmodified-Since", fileTime.Add(-time.Hour).Format(http.TimeFormat)})},
		{name: "ServeFileIfRangeStale", handler: serveFile("digits.txt"),
			req: get("/", [2]string{"Range", "bytes=0-3"}, [2]string{"If-Range", fileTime.Add(-time.Hour).Format(http.TimeFormat)})},
		{name: "FileServerBig", handler: fileServer(), req: get("/big.bin")},
		{name: "FileServerBigRange", handler: fileServer(), req: get("/big.bin", [2]string{"Range", "bytes=1000000-1048999"})},
		{name: "FileServerBigHEAD", handler: fileServer(), req: &reqSpec{method: "HEAD", target: "/big.bin"}},
		{name: "FileServerDirRedirect", handler: fileServer(), req: get("/sub")},
		{name: "FileServerIndexRedirect", handler: fileServer(), req: get("/index.html")},
		{name: "FileServerIndex", handler: fileServer(), req: get("/sub/")},
		{name: "FileServerListing", handler: fileServer(), req: get("/list/")},
		{name: "FileServer404", handler: fileServer(), req: get("/missing.txt")},
		{name: "FileServerCSS", handler: fileServer(), req: get("/style.css")},
		{name: "FileServerJSON", handler: fileServer(), req: get("/data.json")},
		{name: "FileServerUnknownExt", handler: fileServer(), req: get("/unknown.zzzz123")},
		{name: "FileServerSniffed", handler: fileServer(), req: get("/noext")},
		{name: "FileServerEscapedName", handler: fileServer(), req: get("/with%20space.txt")},
		{name: "FileServerEmpty", handler: fileServer(), req: get("/empty.txt")},
		{name: "FileServerStripPrefix", handler: func(*probe) http.Handler {
			return http.StripPrefix("/static/", http.FileServer(http.Dir(filesDir())))
		}, req: get("/static/page.html", [2]string{"Range", "bytes=0-8"})},
		{name: "ServeFileHEADRange", handler: serveFile("digits.txt"), req: &reqSpec{method: "HEAD", target: "/",
			header: [][2]string{{"Range", "bytes=3-9"}}}},
		{name: "ServeFileIfNoneMatchStar", handler: serveFile("hello.txt", [2]string{"ETag", `"v3"`}),
			req: get("/", [2]string{"If-None-Match", "*"})},
		{name: "ReadFromFile", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(filesDir() + "/big.bin")
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer f.Close()
			io.Copy(w, f) // io.ReaderFrom with an *os.File, no Content-Length
		}), req: get("/")},
		{name: "ReadFromFileWithLength", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(filesDir() + "/big.bin")
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer f.Close()
			w.Header().Set("Content-Length", strconv.Itoa(len(bigFile)))
			w.Header().Set("Content-Type", "application/octet-stream")
			io.Copy(w, f)
		}), req: get("/")},
		{name: "ReadFromAfterWrite", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(filesDir() + "/hello.txt")
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer f.Close()
			io.WriteString(w, "prefix: ")
			w.(io.ReaderFrom).ReadFrom(f)
			io.WriteString(w, " :suffix")
		}), req: get("/")},
		{name: "ServeContentReader", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "notes.txt", fileTime, strings.NewReader("served from memory"))
		}), req: get("/", [2]string{"Range", "bytes=7-10"})},

		// URLs, hosts and request headers.
		{name: "EscapedPathQuery", handler: echo, req: get("/a%20b/c%2Fd?x=1&y=%20z&x=2&e=")},
		{name: "UnicodePath", handler: echo, req: get("/caf%C3%A9?q=%E2%9C%93")},
		{name: "DoubleSlashes", handler: echo, req: get("//a//b/../c")},
		{name: "HostWithPort", handler: echo, req: &reqSpec{target: "/", host: "Example.COM:8080"}},
		{name: "RequestHeaderCase", handler: echo, req: get("/",
			[2]string{"x-custom-header", "a"}, [2]string{"ACCEPT-LANGUAGE", "en"}, [2]string{"x_under", "u"},
			[2]string{"X-Spaces", "  padded  "})},
		{name: "RequestMultipleValues", handler: echo, req: get("/",
			[2]string{"Accept", "text/html"}, [2]string{"Accept", "text/plain"}, [2]string{"X-List", "1, 2"},
			[2]string{"Cookie", "a=1"}, [2]string{"Cookie", "b=2"})},
		{name: "ContentLengthLeadingZeros", handler: echo, raw: []step{
			send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello"), read("POST")}},
		{name: "EmptyHost", handler: echo, raw: []step{send("GET / HTTP/1.1\r\nHost:\r\n\r\n"), read("GET")}},
		{name: "UTF8HeaderValue", handler: echo, raw: []step{send(okHead + "X-U: caf\xc3\xa9 \t\r\n\r\n"), read("GET")}},
		{name: "CustomMethod", handler: echo, req: &reqSpec{method: "PURGE", target: "/cache?all"}},
		{name: "SemicolonQuery", handler: echo, req: get("/?a=1;b=2&c=3")},
		{name: "LongTarget", handler: echo, req: get("/" + strings.Repeat("p", 6000) + "?q=1")},
		{name: "UpgradeIgnored", handler: echo, req: get("/", [2]string{"Connection", "Upgrade, HTTP2-Settings"},
			[2]string{"Upgrade", "h2c"}, [2]string{"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"})},
		{name: "GetWithBody", handler: echo, req: &reqSpec{target: "/", body: "a body on a GET"}},
		{name: "PostEmptyBody", handler: echo, rawOnly: true, req: &reqSpec{method: "POST", target: "/",
			header: [][2]string{{"Content-Length", "0"}}}},
		{name: "SequentialKeepAlive", handler: pathEcho, notes: 2, raw: []step{
			send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"), read("GET"),
			send("POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"), read("POST")}},
		{name: "ConnectMethod", handler: echo, raw: []step{
			send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), read("CONNECT")}},
		{name: "AbsoluteForm", handler: echo, raw: []step{
			send("GET http://other.example:81/abs?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"), read("GET")}},
		{name: "OptionsStar", differs: "OPTIONS * is answered with an Allow header net/http does not send", handler: echo, raw: []step{
			send("OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n"), read("OPTIONS")}},
		{name: "ServeMuxCleanPath", handler: func(*probe) http.Handler {
			mux := http.NewServeMux()
			mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "b") })
			return mux
		}, req: get("/a/../b")},
		{name: "ServeMuxMethods", handler: func(*probe) http.Handler {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "item %s", r.PathValue("id"))
			})
			return mux
		}, req: &reqSpec{method: "DELETE", target: "/items/7"}},
		{name: "ServeMuxPathValue", handler: func(*probe) http.Handler {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "item %s", r.PathValue("id"))
			})
			return mux
		}, req: get("/items/a%2Fb")},

		// HTTP/1.0 and Connection.
		{name: "HTTP10", differs: "HTTP/1.0 requests are answered with an HTTP/1.1 status line and Connection: close (net/http: HTTP/1.0, no Connection)", handler: echo, raw: []step{send("GET /old HTTP/1.0\r\n\r\n"), read("GET"), expectClosed()}},
		{name: "HTTP10KeepAlive", view: view{anyVersion: true}, handler: pathEcho, notes: 2, raw: []step{
			send("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), read("GET"),
			send("GET /2 HTTP/1.0\r\n\r\n"), read("GET"), expectClosed()}},
		{name: "HTTP10Streaming", view: view{anyVersion: true}, handler: hf(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "streamed to an HTTP/1.0 client")
			w.(http.Flusher).Flush()
			io.WriteString(w, "; until close")
		}), raw: []step{send("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n"), read("GET"), expectClosed()}},
		{name: "HTTP10FileServerBig", view: view{anyVersion: true}, handler: fileServer(), raw: []step{
			send("GET /big.bin HTTP/1.0\r\n\r\n"), read("GET"), expectClosed()}},
		{name: "HTTP10Post", view: view{anyVersion: true}, handler: echo, raw: []step{send("POST / HTTP/1.0\r\nContent-Length: 4\r\n\r\nbody"), read("POST"), expectClosed()}},
		{name: "HijackUnreadBody", notes: 1, handler: func(p *probe) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, brw, err := w.(http.Hijacker).Hijack()
				if err != nil {
					p.note("hijack: %v", err)
					return
				}
				defer c.Close()
				// The body came with the head: it is there already, and a
				// server that lost it should not hold the suite for long.
				c.SetDeadline(time.Now().Add(ioTimeout / 5))
				body := make([]byte, 5)
				n, err := io.ReadFull(brw, body) // the body, unread before the hijack
				p.note("body through the hijacked conn %q %s", body[:n], errClass(err))
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			})
		}, raw: []step{send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"), read("POST"), expectClosed()}},
		{name: "ConnectionCloseRequest", handler: echo, raw: []step{
			send(okHead + "Connection: close\r\n\r\n"), read("GET"), expectClosed()}},
		{name: "ConnectionCloseClient", handler: echo, clientOnly: true, req: get("/", [2]string{"Connection", "close"})},
		{name: "ConnectionCloseByHandler", handler: hf(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		}), raw: []step{send(okHead + "\r\n"), read("GET"), expectClosed()}},

		// Errors both servers answer alike (their error pages differ:
		// status codes only).
		{name: "MissingHost", statusOnly: true, handler: echo, raw: []step{send("GET / HTTP/1.1\r\n\r\n"), read("GET")}},
		{name: "TwoHosts", statusOnly: true, handler: echo, raw: []step{send(okHead + "Host: other.example\r\n\r\n"), read("GET")}},
		{name: "DifferingContentLengths", statusOnly: true, handler: echo, raw: []step{
			send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"), read("POST")}},
		{name: "SignedContentLength", statusOnly: true, handler: echo, raw: []step{
			send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc"), read("POST")}},
		{name: "BadMethod", statusOnly: true, handler: echo, raw: []step{send("G@T / HTTP/1.1\r\nHost: a\r\n\r\n"), read("GET")}},
		{name: "BadVersion", statusOnly: true, handler: echo, raw: []step{send("GET / http/1.1\r\nHost: a\r\n\r\n"), read("GET")}},
		{name: "ControlCharInValue", statusOnly: true, handler: echo, raw: []step{send(okHead + "X-Bad: a\x01b\r\n\r\n"), read("GET")}},
		{name: "HeadTooLarge", statusOnly: true, opts: serverOpts{maxHeaderBytes: 4096}, handler: echo, raw: []step{
			send(okHead + "X-Big: " + strings.Repeat("b", 64<<10) + "\r\n\r\n"), read("GET")}},
		{name: "BadPercentEncoding", statusOnly: true, handler: echo, raw: []step{send("GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n"), read("GET")}},
		{name: "ExpectUnknown", differs: "an unknown expectation goes to the handler (200) where net/http answers 417 (RFC 9110 §10.1.1: MAY)", statusOnly: true, handler: echo, raw: []step{
			send("POST / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\nhi"), read("POST")}},

		// Where uringnet's parser is stricter than net/http: net/http
		// accepts these requests (stdCode 200), the adapter (uringnet's
		// parser in front) answers 400. Each is a known request-smuggling
		// or desync vector. The neighbouring ones both servers reject say
		// so with stdCode 400.
		// Bare LF line endings: RFC 9112 §2.2 lets a server accept them;
		// uringnet does not.
		{name: "StrictBareLF", handler: echo, stdCode: 200, adapterCode: 400, raw: []step{
			send("GET / HTTP/1.1\nHost: example.com\n\n"), read("GET")}},
		// Obsolete line folding (RFC 9112 §5.2: reject or replace by SP).
		{name: "StrictObsFold", handler: echo, stdCode: 200, adapterCode: 400, raw: []step{
			send(okHead + "X-Folded: a\r\n b\r\n\r\n"), read("GET")}},
		// Content-Length and Transfer-Encoding together (RFC 9112 §6.1:
		// "ought to be handled as an error"); net/http drops Content-Length.
		{name: "StrictCLAndTE", handler: echo, stdCode: 200, adapterCode: 400, raw: []step{
			send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), read("POST")}},
		// Whitespace between a field name and its colon (RFC 9112 §5.1: a
		// server must reject it with 400).
		{name: "StrictSpaceBeforeColon", handler: echo, stdCode: 400, adapterCode: 400, raw: []step{
			send(okHead + "X-Space : v\r\n\r\n"), read("GET")}},
		// Transfer-Encoding in an HTTP/1.0 request.
		{name: "StrictTEInHTTP10", handler: echo, stdCode: 200, adapterCode: 400, raw: []step{
			send("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), read("POST")}},
		// A bare CR inside a field value.
		{name: "StrictBareCR", handler: echo, stdCode: 400, adapterCode: 400, raw: []step{
			send(okHead + "X-CR: a\rb\r\n\r\n"), read("GET")}},
		// A fragment in the request-target (RFC 9112 §3.2 has none):
		// net/http keeps "#frag" in the path, uringnet answers 400.
		{name: "StrictFragmentInTarget", handler: echo, stdCode: 200, adapterCode: 400, raw: []step{
			send("GET /path#frag HTTP/1.1\r\nHost: a\r\n\r\n"), read("GET")}},
		// Limits where the adapter takes uringnet's defaults (Limits) and
		// net/http has none or a larger one.
		{name: "LimitHeadOver16KiB", handler: echo, stdCode: 200, adapterCode: 431, raw: []step{
			send(okHead + "X-Big: " + strings.Repeat("b", 20<<10) + "\r\n\r\n"), read("GET")}},
		{name: "LimitManyHeaderLines", handler: echo, stdCode: 200, adapterCode: 431, raw: []step{
			send(okHead + strings.Repeat("X-Many: v\r\n", 150) + "\r\n"), read("GET")}},
		// (The body is written in the background: the adapter answers at
		// once and may close before taking it all.)
		{name: "LimitBodyOver8MiB", handler: hashBody, stdCode: 200, adapterCode: 413, raw: []step{
			sendAsync("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9437184\r\n\r\n" + pattern(9<<20)), read("POST")}},
		// A malformed chunk size: net/http hands the handler a body read
		// error (hashBody answers 200 with it); uringnet's parser answers
		// 400 itself.
		{name: "StrictBadChunkSize", handler: hashBody, stdCode: 200, adapterCode: 400, raw: []step{
			send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"), read("POST")}},
		// A higher minor version: net/http serves it as HTTP/1.2, uringnet
		// answers 505 (RFC 9112 §2.3 says a server SHOULD process it as
		// the highest 1.x it implements).
		{name: "StrictHTTP12", handler: echo, stdCode: 200, adapterCode: 505, raw: []step{
			send("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), read("GET")}},
		// Transfer-Encoding other than chunked, with a Content-Length: both
		// reject it, net/http with 501 (unsupported coding), uringnet with
		// 400 (Transfer-Encoding and Content-Length together).
		{name: "StrictTEIdentity", handler: echo, stdCode: 501, adapterCode: 400, raw: []step{
			send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nhi"), read("POST")}},
	}
}
