package stdhttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	uhttp "github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// Server serves an http.Handler on uringnet, shaped like net/http's
// Server. The zero value with Handler set serves on ":http".
type Server struct {
	// Addr is the TCP address to listen on ("" means ":http"). It is
	// ignored when Native.Net.Addrs is set.
	Addr string
	// Handler serves the requests; nil means http.DefaultServeMux.
	Handler http.Handler
	// ReadHeaderTimeout bounds the time a request head may take to arrive
	// (Native.HeaderTimeout when zero).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time a request body may take to arrive, not
	// counting the time the handler does not read it (Native.BodyTimeout
	// when zero). ReadHeaderTimeout takes ReadTimeout when only that is
	// set, as in net/http.
	ReadTimeout time.Duration
	// WriteTimeout bounds each wait of a handler's write for the client to
	// take the previous piece; past it the connection is closed. Zero
	// means none (the loops' stall timeout, Native.Net.IdleTimeout, still
	// closes a client that takes nothing).
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection (Native.IdleTimeout when zero).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request head (Native.Limits.MaxHeaderBytes
	// when zero).
	MaxHeaderBytes int
	// MaxHandlers bounds the handlers running at once (DefaultMaxHandlers
	// when zero); requests over it wait with their connections unread.
	MaxHandlers int
	// ErrorLog, when set and Logger is not, receives the log lines.
	ErrorLog *log.Logger
	// Logger receives the log lines; nil means ErrorLog, else
	// slog.Default().
	Logger *slog.Logger
	// BaseContext returns the context every request's context derives
	// from; nil means context.Background().
	BaseContext func() context.Context
	// TLSConfig, when set, makes the server speak HTTPS (Native.Net.TLS
	// when that is not set); handlers see Request.TLS. ListenAndServeTLS
	// fills it from files.
	TLSConfig *tls.Config
	// Native configures the uringnet HTTP server beneath: loops, backend,
	// limits, the stall timeout. Zero values take its defaults; the
	// fields above, when set, override the matching ones.
	Native uhttp.Config

	mu  sync.Mutex
	srv *uhttp.Server
	a   *Handler
}

// ListenAndServe serves h on addr until the process ends or an error
// occurs, as net/http's ListenAndServe does.
func ListenAndServe(addr string, h http.Handler) error {
	s := &Server{Addr: addr, Handler: h}
	return s.ListenAndServe()
}

// ListenAndServe listens on s.Addr and serves; it returns
// http.ErrServerClosed after Shutdown or Close.
func (s *Server) ListenAndServe() error { return s.Serve() }

// ListenAndServeTLS is ListenAndServe speaking HTTPS, as net/http's is:
// certFile and keyFile (PEM; the certificate file may hold the chain) are
// added to a copy of TLSConfig, which may instead hold the certificates
// already (pass empty names then). NextProtos defaults to http/1.1, and
// Addr to ":https".
func (s *Server) ListenAndServeTLS(certFile, keyFile string) error {
	var cfg *tls.Config
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("stdhttp: %w", err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"http/1.1"}
	}
	s.mu.Lock()
	if s.srv != nil {
		// Listen (or Ready) ran first: what it set up is what Serve would
		// serve. Plain HTTP, or TLS without these certificates, is not
		// what was asked for.
		tlsOn := s.srv.Config().Net.TLS != nil
		s.mu.Unlock()
		if !tlsOn || certFile != "" || keyFile != "" {
			return errors.New("stdhttp: ListenAndServeTLS after Listen: the listeners were set up without its TLS configuration")
		}
		return s.Serve()
	}
	s.TLSConfig = cfg
	if s.Addr == "" {
		s.Addr = ":https"
	}
	s.mu.Unlock()
	return s.Serve()
}

// logger returns the logger the server writes to.
func (s *Server) logger() *slog.Logger {
	switch {
	case s.Logger != nil:
		return s.Logger
	case s.ErrorLog != nil:
		return slog.New(slog.NewTextHandler(s.ErrorLog.Writer(), nil))
	}
	return slog.Default()
}

// Listen opens the listeners (Serve calls it when it has not been called).
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	cfg := s.Native
	if cfg.Net.TLS == nil {
		cfg.Net.TLS = s.TLSConfig
	}
	if len(cfg.Net.Addrs) == 0 {
		addr := s.Addr
		if addr == "" {
			addr = ":http"
		}
		cfg.Net.Addrs = []string{addr}
	}
	log := s.logger()
	if cfg.Net.Logger == nil {
		cfg.Net.Logger = log
	}
	if s.ReadHeaderTimeout != 0 {
		cfg.HeaderTimeout = s.ReadHeaderTimeout
	} else if s.ReadTimeout != 0 {
		cfg.HeaderTimeout = s.ReadTimeout
	}
	if s.ReadTimeout != 0 {
		cfg.BodyTimeout = s.ReadTimeout
	}
	if s.IdleTimeout != 0 {
		cfg.IdleTimeout = s.IdleTimeout
	}
	if s.MaxHeaderBytes != 0 {
		cfg.Limits.MaxHeaderBytes = s.MaxHeaderBytes
	}
	a := NewHandler(s.Handler, Options{MaxHandlers: s.MaxHandlers, WriteTimeout: s.WriteTimeout,
		Logger: log, BaseContext: s.BaseContext})
	srv, err := uhttp.NewServer(cfg, a)
	if err != nil {
		return fmt.Errorf("stdhttp: %w", err)
	}
	a.Bind(srv)
	s.srv, s.a = srv, a
	return nil
}

// Serve serves until Shutdown or Close, and returns http.ErrServerClosed
// then.
func (s *Server) Serve() error {
	if err := s.Listen(); err != nil {
		return err
	}
	err := s.srv.Serve()
	if errors.Is(err, netserver.ErrServerClosed) {
		return http.ErrServerClosed
	}
	return err
}

// BoundAddr returns the address of the first listener, once Listen has
// run (nil before).
func (s *Server) BoundAddr() net.Addr {
	if srv := s.native(); srv != nil {
		return srv.Addr()
	}
	return nil
}

// Native returns the uringnet HTTP server beneath, once Listen has run.
func (s *Server) native() *uhttp.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// Uringnet returns the uringnet HTTP server beneath (its Stats, its
// Counters), once Listen has run; nil before.
func (s *Server) Uringnet() *uhttp.Server { return s.native() }

// Ready returns a channel closed once the loops serve (Listen first).
func (s *Server) Ready() <-chan struct{} {
	if err := s.Listen(); err != nil {
		ch := make(chan struct{})
		return ch
	}
	return s.native().Ready()
}

// Counters returns the adapter's counters (zero before Listen).
func (s *Server) Counters() Counters {
	s.mu.Lock()
	a := s.a
	s.mu.Unlock()
	if a == nil {
		return Counters{}
	}
	return a.Counters()
}

// Shutdown stops the server gracefully: it stops accepting, responses
// from then on close their connections, running handlers finish and their
// responses go out whole, idle keep-alive connections are closed (after
// Native.DrainIdleTimeout, 1 s by default, the time a request already on
// its way has to arrive), then the loops close what is left and stop (see
// uringnet's http.Server.Drain). Hijacked connections are not waited for.
// When ctx ends first, the requests' contexts are cancelled, the rest is
// closed at once, and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, a := s.srv, s.a
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	a.draining.Store(true) // heads written from now on say Connection: close
	err := srv.Drain(ctx)
	if err == nil {
		// Handlers still running after their connections went.
		err = a.drain(ctx)
	}
	if err == nil {
		err = srv.Shutdown(ctx)
	}
	if err != nil {
		a.CancelAll()
		srv.Close()
	}
	return err
}

// Close closes every connection at once and cancels every request's
// context.
func (s *Server) Close() error {
	s.mu.Lock()
	srv, a := s.srv, s.a
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	a.CancelAll()
	return srv.Close()
}
