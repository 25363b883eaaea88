package main

import (
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// Access log sizes: each loop appends lines to a buffer of accessBufSize
// bytes and hands it to the writer once it holds accessFlushAt bytes, or
// at the next tick; accessQueue buffers may wait for the writer.
const (
	accessBufSize = 64 << 10
	accessFlushAt = accessBufSize - 1<<10
	accessQueue   = 16
	maxLoops      = 256 // netserver allows 255 loops
)

// accessLog is the demo's http.AccessLogger: one line per request in the
// format of the other logs (text or JSON, like log/slog's handlers), at
// info level. It never makes a system call on an event loop nor blocks
// one: each loop formats its lines (append-style, no allocation) into a
// buffer of its own, which is handed to a writer goroutine when it is
// nearly full or at the loop's next tick. When the writer is behind and
// accessQueue buffers wait already, the loop's buffer is dropped and its
// lines counted in Dropped.
type accessLog struct {
	out     io.Writer
	json    bool
	log     *slog.Logger // for the dropped-lines warning
	loops   [maxLoops]loopLog
	full    chan []byte // buffers for the writer
	free    chan []byte // buffers it has written
	done    chan struct{}
	dropped atomic.Uint64 // lines dropped (writer behind)
	werrs   atomic.Uint64 // failed writes
}

// loopLog is one loop's buffer; only that loop touches it (and close, once
// the loops have ended).
type loopLog struct {
	buf   []byte
	n     uint64 // lines in buf
	sec   int64  // Unix second whose prefix is in stamp
	stamp []byte // "2006-01-02T15:04:05." of sec
	// The last client seen and its number formatted (pipelined and
	// keep-alive requests come in runs from one client).
	client    netserver.ClientNum
	clientStr []byte
	_         [64]byte
}

// newAccessLog starts the writer goroutine; lines go to out, as JSON when
// json is set. log gets the final warning when lines were dropped.
func newAccessLog(out io.Writer, json bool, log *slog.Logger) *accessLog {
	a := &accessLog{out: out, json: json, log: log, full: make(chan []byte, accessQueue),
		free: make(chan []byte, accessQueue+1), done: make(chan struct{})}
	go a.write()
	return a
}

func (a *accessLog) write() {
	defer close(a.done)
	for b := range a.full {
		if _, err := a.out.Write(b); err != nil {
			a.werrs.Add(1)
		}
		select {
		case a.free <- b[:0]:
		default:
		}
	}
}

// LogAccess appends one line for e to its loop's buffer.
func (a *accessLog) LogAccess(e *http.AccessEntry) {
	l := &a.loops[e.Client.Loop()]
	if l.buf == nil {
		select {
		case l.buf = <-a.free:
		default:
			l.buf = make([]byte, 0, accessBufSize)
		}
	}
	l.buf = a.appendLine(l.buf, l, e)
	l.n++
	if len(l.buf) >= accessFlushAt {
		a.hand(l)
	}
}

// FlushAccess hands loop's lines to the writer.
func (a *accessLog) FlushAccess(loop int, now time.Time) {
	if l := &a.loops[loop]; len(l.buf) > 0 {
		a.hand(l)
	}
}

// hand gives l's buffer to the writer, or drops its lines when the writer
// is behind.
func (a *accessLog) hand(l *loopLog) {
	select {
	case a.full <- l.buf:
		l.buf = nil
	default:
		a.dropped.Add(l.n)
		l.buf = l.buf[:0]
	}
	l.n = 0
}

// close writes what the loops left, waits for the writer and reports
// dropped lines. Call it once the server has stopped.
func (a *accessLog) close() {
	if a == nil {
		return
	}
	for i := range a.loops {
		if l := &a.loops[i]; len(l.buf) > 0 {
			a.full <- l.buf // blocks: the loops are gone, nothing else waits
			l.buf, l.n = nil, 0
		}
	}
	close(a.full)
	<-a.done
	if n := a.dropped.Load(); n > 0 {
		a.log.Warn("access log lines dropped (the log could not keep up)", "dropped", n)
	}
}

// appendLine formats e as one line: text
//
//	time=2006-01-02T15:04:05.000Z level=INFO msg=request method=GET target=/ status=200 client=0/1/1
//
// or the same fields as one JSON object.
func (a *accessLog) appendLine(dst []byte, l *loopLog, e *http.AccessEntry) []byte {
	t := e.Time.UTC()
	if sec := t.Unix(); sec != l.sec || l.stamp == nil {
		l.sec = sec
		l.stamp = t.Truncate(time.Second).AppendFormat(l.stamp[:0], "2006-01-02T15:04:05.")
	}
	ms := t.Nanosecond() / 1e6
	if a.json {
		dst = append(dst, `{"time":"`...)
		dst = appendStamp(dst, l.stamp, ms)
		dst = append(dst, `","level":"INFO","msg":"request","method":`...)
		dst = appendQuoted(dst, e.Method)
		dst = append(dst, `,"target":`...)
		dst = appendQuoted(dst, e.Target)
		dst = append(dst, `,"status":`...)
		dst = appendStatus(dst, e.Status)
		dst = append(dst, `,"client":"`...)
		dst = l.appendClient(dst, e.Client)
		return append(dst, "\"}\n"...)
	}
	dst = append(dst, "time="...)
	dst = appendStamp(dst, l.stamp, ms)
	dst = append(dst, " level=INFO msg=request method="...)
	dst = appendTextValue(dst, e.Method)
	dst = append(dst, " target="...)
	dst = appendTextValue(dst, e.Target)
	dst = append(dst, " status="...)
	dst = appendStatus(dst, e.Status)
	dst = append(dst, " client="...)
	dst = l.appendClient(dst, e.Client)
	return append(dst, '\n')
}

// appendStamp appends the cached second, three digits of ms, and "Z".
func appendStamp(dst, stamp []byte, ms int) []byte {
	dst = append(dst, stamp...)
	return append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// appendStatus appends a status code: three digits in the usual case.
func appendStatus(dst []byte, status int) []byte {
	if status < 100 || status > 999 {
		return strconv.AppendInt(dst, int64(status), 10)
	}
	return append(dst, byte('0'+status/100), byte('0'+status/10%10), byte('0'+status%10))
}

// appendClient appends c as loop/slot/generation, formatted once per run
// of lines from the same client.
func (l *loopLog) appendClient(dst []byte, c netserver.ClientNum) []byte {
	if c != l.client || l.clientStr == nil {
		l.client = c
		l.clientStr = appendClient(l.clientStr[:0], c)
	}
	return append(dst, l.clientStr...)
}

// appendClient appends c as loop/slot/generation (ClientNum.String without
// the allocation).
func appendClient(dst []byte, c netserver.ClientNum) []byte {
	dst = strconv.AppendInt(dst, int64(c.Loop()), 10)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, int64(c.Slot()), 10)
	dst = append(dst, '/')
	return strconv.AppendUint(dst, uint64(c.Gen()), 10)
}

// appendTextValue appends v as is when it needs no quoting (printable
// ASCII without spaces, '=' or '"'), else quoted.
func appendTextValue(dst, v []byte) []byte {
	if len(v) == 0 {
		return append(dst, `""`...)
	}
	for _, b := range v {
		if b <= ' ' || b >= 0x7f || b == '=' || b == '"' {
			return appendQuoted(dst, v)
		}
	}
	return append(dst, v...)
}

// appendQuoted appends v as a JSON string (also valid in the text format):
// '"' and '\' escaped, control bytes as \u00XX, invalid UTF-8 as U+FFFD.
func appendQuoted(dst, v []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(v); {
		b := v[i]
		switch {
		case b == '"' || b == '\\':
			dst = append(dst, '\\', b)
			i++
		case b < ' ' || b == 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&15])
			i++
		case b < utf8.RuneSelf:
			dst = append(dst, b)
			i++
		default:
			r, n := utf8.DecodeRune(v[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, v[i:i+n]...)
			}
			i += n
		}
	}
	return append(dst, '"')
}
