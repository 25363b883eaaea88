package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	nethttp "net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
	"github.com/uringnet/uringnet/stdhttp"
)

// The -stdlib mode: every route is a net/http handler on a ServeMux,
// served by the stdhttp adapter. The WebSocket routes hand their
// connections back to the loops (stdhttp.TakeOver), where the same
// websocket.Server as in native mode runs them.

// stdlibHandler returns the demo's routes as net/http handlers: a ServeMux
// behind the method check both modes share. root is the site's directory,
// metrics the /metrics handler.
func (d *demo) stdlibHandler(root string, metrics nethttp.Handler, log *slog.Logger) nethttp.Handler {
	files := nethttp.FileServer(nethttp.Dir(root))
	page := filepath.Join(root, "ws.html")
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/plaintext", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		writeWhole(w, "text/plain", helloBody)
	})
	mux.HandleFunc("/json", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		writeWhole(w, "application/json", jsonBody)
	})
	mux.HandleFunc("/healthz", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		writeWhole(w, "application/json", healthBody())
	})
	mux.HandleFunc("/readyz", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		status, body := readyBody(d.s.Draining())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body)
	})
	mux.HandleFunc("/echo", echoStd)
	mux.HandleFunc("/stats.json", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		s := d.stats.take(time.Now())
		writeWhole(w, "application/json", appendStatsJSON(nil, &s))
	})
	mux.Handle("/metrics", metrics)
	mux.Handle("/ws", d.wsStd(routeEcho, page, files, log))
	mux.Handle("/chat", d.wsStd(routeChat, page, files, log))
	mux.Handle("/stats", d.wsStd(routeStats, "", files, log))
	mux.Handle("/", files)
	return methodGuard(mux)
}

// methodGuard answers the requests whose method their route does not take
// (405 with Allow, 501 for unknown methods), as native mode does, and
// passes the others to h.
func methodGuard(h nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if status, allow := checkMethod(r.Method, r.URL.Path); status != 0 {
			if allow != "" {
				w.Header().Set("Allow", allow)
			}
			writeError(w, status)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// writeWhole answers with body, its length announced.
func writeWhole(w nethttp.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body) // dropped for HEAD, as net/http does
}

// writeError answers with status and a short text page.
func writeError(w nethttp.ResponseWriter, status int) {
	body := strconv.Itoa(status) + " " + nethttp.StatusText(status) + "\n"
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// echoStd answers POST /echo: a body of known length is streamed back as
// it arrives; a chunked one is collected (up to maxCollectedEcho) and sent
// back whole, as in native mode.
func echoStd(w nethttp.ResponseWriter, r *nethttp.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	if r.ContentLength >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
		// Reading the body while the answer is being written (net/http
		// would otherwise stop the body at the first write); an adapter
		// that does not need asking says ErrNotSupported.
		_ = nethttp.NewResponseController(w).EnableFullDuplex()
		w.WriteHeader(200)
		io.Copy(w, r.Body)
		return
	}
	body, err := io.ReadAll(nethttp.MaxBytesReader(w, r.Body, maxCollectedEcho))
	if err != nil {
		w.Header().Del("Content-Type")
		var tooLarge *nethttp.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, nethttp.StatusRequestEntityTooLarge)
		} else {
			writeError(w, nethttp.StatusBadRequest)
		}
		return
	}
	writeWhole(w, "application/octet-stream", body)
}

// wsStd serves a WebSocket route: a handshake is handed to the loops
// (stdhttp.TakeOver), where the demo's websocket.Server upgrades it as in
// native mode; a plain GET gets page (or, without one, whatever files
// has at the path).
func (d *demo) wsStd(route uint8, page string, files nethttp.Handler, log *slog.Logger) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if isUpgrade(r) {
			err := stdhttp.TakeOver(w, func(req *http.Request, c netserver.ClientNum) {
				d.ws.upgrade(req, c, route)
			})
			if err != nil {
				log.Debug("websocket handover", "path", r.URL.Path, "err", err)
			}
			return
		}
		if page != "" {
			nethttp.ServeFile(w, r, page)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// isUpgrade reports whether r asks for a protocol upgrade: an Upgrade
// field, and "upgrade" among the Connection options.
func isUpgrade(r *nethttp.Request) bool {
	if r.Header.Get("Upgrade") == "" {
		return false
	}
	for _, v := range r.Header["Connection"] {
		for opt := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(opt), "upgrade") {
				return true
			}
		}
	}
	return false
}

// sized runs h with its response buffered, and sends it with a
// Content-Length; a HEAD gets the head a GET would (h runs as for a GET,
// and its body is left out). It suits small dynamic bodies, /metrics.
func sized(h nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		bw := &bufferedWriter{header: w.Header()}
		inner := r
		if r.Method == "HEAD" {
			inner = r.Clone(r.Context())
			inner.Method = "GET"
		}
		h.ServeHTTP(bw, inner)
		w.Header().Set("Content-Length", strconv.Itoa(bw.body.Len()))
		w.WriteHeader(max(bw.status, 200))
		if r.Method != "HEAD" {
			w.Write(bw.body.Bytes())
		}
	})
}

// bufferedWriter is a net/http.ResponseWriter that keeps the response
// (for sized); its header is the real writer's.
type bufferedWriter struct {
	header nethttp.Header
	status int
	body   bytes.Buffer
}

// Header returns the header map of the response.
func (w *bufferedWriter) Header() nethttp.Header { return w.header }

// WriteHeader records the first status.
func (w *bufferedWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// Write adds p to the body.
func (w *bufferedWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	return w.body.Write(p)
}
