package netserver

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/uringnet/uringnet/backend"
)

// Features is a set of optional kernel features: each is newer than Linux
// 5.10 (except FeatBatch) and has a fallback. Config.Disable switches
// features off to force the fallback paths, as if the kernel lacked them.
type Features uint32

// The optional features, with the kernel that brought each.
const (
	// FeatMultishot: multishot accept (5.19) and multishot recv (6.0);
	// without it every accept and recv is single-shot and re-armed.
	FeatMultishot Features = 1 << iota
	// FeatBufRing: provided-buffer rings (5.19); without it every
	// connection reads into a buffer of its own.
	FeatBufRing
	// FeatBatch: one io_uring_enter per batch of completions; without it
	// every operation is submitted on its own (to measure what batching
	// buys). Not a kernel feature: every kernel batches.
	FeatBatch
	// FeatDeferTaskrun: SINGLE_ISSUER|DEFER_TASKRUN rings (6.0, 6.1);
	// without it rings get COOP_TASKRUN|SUBMIT_ALL (unless FeatSetupFlags
	// is off too).
	FeatDeferTaskrun
	// FeatShutdown: IORING_OP_SHUTDOWN (5.11) for ShutdownWrite; without it
	// (or when the probe says the kernel lacks it) the loop calls
	// shutdown(2) itself, which never blocks.
	FeatShutdown
	// FeatExtArg: waits bounded through IORING_ENTER_EXT_ARG (5.11);
	// without it a TIMEOUT request bounds each timed wait.
	FeatExtArg
	// FeatCancelFD: IORING_ASYNC_CANCEL_FD|ALL (5.19) cancels all of a
	// closing client's operations in one request; without it each
	// operation is cancelled by its user_data.
	FeatCancelFD
	// FeatSetupFlags: the setup flags SUBMIT_ALL (5.18) and COOP_TASKRUN
	// (5.19); without them (and without FeatDeferTaskrun) rings are set up
	// with CQSIZE only, as on 5.10. Flags the kernel rejects are dropped
	// anyway, newest first.
	FeatSetupFlags
	// FeatKTLS: kernel TLS (the "tls" upper-layer protocol, TX since 4.13)
	// takes over sealing records after a TLS handshake, so that files go
	// out by splice or sendfile; without it (or where the kernel has no
	// "tls" module) records are sealed in Go on the loop. Not part of
	// FeatAll: it is older than 5.10, and a kernel option.
	FeatKTLS
)

// FeatAll is every kernel feature newer than Linux 5.10: disabling it
// (URINGNET_DISABLE=all) runs the code paths of a 5.10 kernel. FeatBatch is
// not part of it, since 5.10 batches too.
const FeatAll = FeatMultishot | FeatBufRing | FeatDeferTaskrun | FeatShutdown | FeatExtArg | FeatCancelFD | FeatSetupFlags

var featureNames = []struct {
	name string
	f    Features
}{
	{"multishot", FeatMultishot},
	{"bufring", FeatBufRing},
	{"batch", FeatBatch},
	{"defertaskrun", FeatDeferTaskrun},
	{"shutdown", FeatShutdown},
	{"extarg", FeatExtArg},
	{"cancelfd", FeatCancelFD},
	{"setupflags", FeatSetupFlags},
	{"ktls", FeatKTLS},
	{"all", FeatAll},
}

// EnvDisable is the environment variable read by New: a comma-separated
// list of features to disable, e.g. URINGNET_DISABLE=multishot,bufring, or
// URINGNET_DISABLE=all for the feature set of Linux 5.10.
const EnvDisable = "URINGNET_DISABLE"

// EnvBackend is the environment variable read by New: auto, uring or epoll,
// overriding Config.Backend.
const EnvBackend = "URINGNET_BACKEND"

// featureList is the list of names for error messages.
func featureList() string {
	names := make([]string, len(featureNames))
	for i, n := range featureNames {
		names[i] = n.name
	}
	return strings.Join(names, ", ")
}

// ParseFeatures parses a comma-separated list of feature names (multishot,
// bufring, batch, defertaskrun, shutdown, extarg, cancelfd, setupflags, or
// all for every kernel feature newer than 5.10).
func ParseFeatures(s string) (Features, error) {
	var f Features
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(strings.ToLower(part))
		if part == "" {
			continue
		}
		found := false
		for _, n := range featureNames {
			if n.name == part {
				f |= n.f
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("netserver: unknown feature %q (want %s)", part, featureList())
		}
	}
	return f, nil
}

// String lists the features by name.
func (f Features) String() string {
	var names []string
	for _, n := range featureNames {
		if f&n.f != 0 && n.f != FeatAll {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ",")
}

// Defaults of the Config fields left zero.
const (
	DefaultMaxQueued       = 256 << 10
	DefaultMaxMemory int64 = 1 << 30
)

// Config configures a Server. Zero fields take the defaults.
type Config struct {
	// Addrs are the TCP addresses to listen on ("127.0.0.1:8080", ":0").
	// Each loop gets its own SO_REUSEPORT listener per address. An empty
	// list makes a server without listeners (adopted fds and events only).
	Addrs []string
	// Listeners are listening TCP sockets made elsewhere: by systemd
	// (socket activation, see package activation), or by the process this
	// one takes over from (Server.ListenerFiles, see package upgrade). The
	// server accepts on a duplicate of each; the caller keeps its files
	// and may close them once New returns. Sockets with the same address
	// (a SO_REUSEPORT group) are spread over the loops, and every loop
	// accepts on every address, duplicating a socket where there are
	// fewer sockets than loops. An Addrs entry that an inherited socket
	// already covers (the same IP and port, or the same IP and port 0) is
	// not bound again. Server.Addrs lists the covered entries in their
	// order, then the other inherited addresses, then the ones bound.
	Listeners []*os.File
	// Loops is the number of event loops, each with its own ring and OS
	// thread. Default: GOMAXPROCS.
	Loops int
	// RingEntries is the size of each submission queue. Default 1024; the
	// completion queue is four times as large.
	RingEntries uint32
	// BufferSize and BufferCount size each loop's provided-buffer ring.
	// Defaults 16 KiB and 1024 (a power of two).
	BufferSize  int
	BufferCount int
	// MaxConns bounds open connections per server; connections beyond it
	// are closed at once and counted as rejected. Default 100000.
	MaxConns int
	// MaxTasks bounds operations in flight per loop. Default 4*MaxConns/Loops + 1024,
	// at most 262144; beyond it new operations wait (backpressure).
	MaxTasks int
	// MaxQueued bounds a client's output backlog: the bytes queued for it
	// (a pooled copy buffer counts whole) plus a small charge per queued
	// write and 16 KiB per queued custom Op (a file being sent). When the
	// backlog reaches it, the client is congested: its reads wait until the
	// backlog has drained to half (see Server.Congested and Drainer).
	// Default 256 KiB; negative means no limit.
	MaxQueued int
	// MaxMemory is the server's budget for output backlogs (as MaxQueued
	// counts them) over all clients, shared equally between the loops: a
	// loop past its share delivers no new reads until its backlogs fall to
	// three quarters of it. Default 1 GiB; negative means no limit.
	MaxMemory int64
	// StreamMaxQueued is MaxQueued for a virtual client (NewStream): its
	// backlog makes it congested (Server.Congested, Drainer) at this size,
	// so that many streams of one connection stay within a connection's
	// budget. Default 64 KiB (DefaultStreamMaxQueued); negative means no limit.
	StreamMaxQueued int
	// IdleTimeout closes connections with no read or write for this long.
	// Zero means no limit.
	IdleTimeout time.Duration
	// TickInterval is how often a Handler that implements Ticker gets its
	// Tick call on every loop. Zero means never.
	TickInterval time.Duration
	// Disable switches optional features off (forcing fallbacks). New adds
	// the features named in $URINGNET_DISABLE.
	Disable Features
	// Backend picks the kernel interface the loops run on: "auto" (or
	// empty: io_uring when io_uring_setup succeeds, else epoll, with one
	// log line naming why), "uring" (io_uring or fail) or "epoll". New
	// takes $URINGNET_BACKEND instead when it is set. The callbacks,
	// guarantees and stats are the same on both; Stats.Backend says which
	// runs.
	Backend string
	// Logger receives the server's logs. Default slog.Default().
	Logger *slog.Logger

	// TLS, when set, makes every accepted connection speak TLS with
	// crypto/tls: the Handler sees plaintext, and its Accept is called
	// once the handshake has ended well (a client whose handshake fails
	// never reaches it). NextProtos, certificates, session tickets and
	// versions are crypto/tls's to use as configured. Handshakes run on
	// their own goroutines, at most MaxHandshakes at once; records are
	// opened and sealed on the loop, or sealed by the kernel (FeatKTLS).
	TLS *tls.Config
	// HandshakeTimeout bounds a TLS handshake, from accept to its end,
	// the wait for a handshake slot included. Default 10s.
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds the TLS handshakes running at once, over all
	// loops (each has an equal share, at least one); clients beyond it
	// wait, without a goroutine, within HandshakeTimeout. Default 256.
	MaxHandshakes int
}

func (c Config) withDefaults() (Config, error) {
	if c.Loops <= 0 {
		c.Loops = runtime.GOMAXPROCS(0)
	}
	if c.Loops > 255 {
		return c, fmt.Errorf("netserver: %d loops: at most 255", c.Loops)
	}
	if c.RingEntries == 0 {
		c.RingEntries = 1024
	}
	if c.BufferSize <= 0 {
		c.BufferSize = 16 << 10
	}
	if c.BufferCount <= 0 {
		c.BufferCount = 1024
	}
	if c.BufferCount&(c.BufferCount-1) != 0 || c.BufferCount > 32768 {
		return c, fmt.Errorf("netserver: BufferCount %d: want a power of two <= 32768", c.BufferCount)
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 100000
	}
	if c.MaxTasks <= 0 {
		c.MaxTasks = min(4*c.MaxConns/c.Loops+1024, 1<<18)
	}
	if c.MaxQueued == 0 {
		c.MaxQueued = DefaultMaxQueued
	}
	if c.StreamMaxQueued == 0 {
		c.StreamMaxQueued = DefaultStreamMaxQueued
	}
	if c.MaxMemory == 0 {
		c.MaxMemory = DefaultMaxMemory
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.MaxHandshakes <= 0 {
		c.MaxHandshakes = DefaultMaxHandshakes
	}
	if env := os.Getenv(EnvBackend); env != "" {
		c.Backend = env
	}
	if _, err := backend.ParseKind(c.Backend); err != nil {
		return c, fmt.Errorf("netserver: Backend: %w", err)
	}
	if env := os.Getenv(EnvDisable); env != "" {
		f, err := ParseFeatures(env)
		if err != nil {
			return c, fmt.Errorf("%s: %w", EnvDisable, err)
		}
		c.Disable |= f
	}
	return c, nil
}
