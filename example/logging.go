package main

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/uringnet/uringnet/netserver"
)

// accessEntry is one request as the access log records it.
type accessEntry struct {
	method, path string
	status       int // 0 when the file server chose it (SendFile)
	client       netserver.ClientNum
}

// accessLog writes one record per request without ever blocking an event
// loop: callbacks hand entries to a goroutine through a buffered channel,
// and when the channel is full the entry is dropped and counted instead.
// A nil *accessLog is switched off and costs nothing.
type accessLog struct {
	log     *slog.Logger
	ch      chan accessEntry
	done    chan struct{}
	dropped atomic.Uint64
}

// newAccessLog starts the goroutine that writes entries to l; queue is how
// many entries may wait.
func newAccessLog(l *slog.Logger, queue int) *accessLog {
	a := &accessLog{log: l, ch: make(chan accessEntry, queue), done: make(chan struct{})}
	go a.write()
	return a
}

func (a *accessLog) write() {
	defer close(a.done)
	for e := range a.ch {
		attrs := []slog.Attr{
			slog.String("method", e.method),
			slog.String("path", e.path),
			slog.String("client", e.client.String()),
		}
		if e.status != 0 {
			attrs = append(attrs, slog.Int("status", e.status))
		}
		a.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
	}
}

// add records a request; method and path are copied. It never blocks.
func (a *accessLog) add(method, path []byte, status int, c netserver.ClientNum) {
	if a == nil {
		return
	}
	select {
	case a.ch <- accessEntry{string(method), string(path), status, c}:
	default:
		a.dropped.Add(1)
	}
}

// close writes what is queued, reports dropped entries and stops. No add
// may follow it.
func (a *accessLog) close() {
	if a == nil {
		return
	}
	close(a.ch)
	<-a.done
	if n := a.dropped.Load(); n > 0 {
		a.log.Warn("access log entries dropped (the log could not keep up)", "dropped", n)
	}
}
