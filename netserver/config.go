package netserver

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"
)

// Features is a set of optional kernel features. Config.Disable switches
// features off to force the fallback paths.
type Features uint32

// The optional features.
const (
	// FeatMultishot: multishot accept (5.19) and multishot recv (6.0);
	// without it every accept and recv is single-shot and re-armed.
	FeatMultishot Features = 1 << iota
	// FeatBufRing: provided-buffer rings (5.19); without it every
	// connection reads into a buffer of its own.
	FeatBufRing
	// FeatBatch: one io_uring_enter per batch of completions; without it
	// every operation is submitted on its own (to measure what batching buys).
	FeatBatch
	// FeatDeferTaskrun: SINGLE_ISSUER|DEFER_TASKRUN rings (6.1).
	FeatDeferTaskrun
)

var featureNames = []struct {
	name string
	f    Features
}{
	{"multishot", FeatMultishot},
	{"bufring", FeatBufRing},
	{"batch", FeatBatch},
	{"defertaskrun", FeatDeferTaskrun},
}

// EnvDisable is the environment variable read by New: a comma-separated
// list of features to disable, e.g. URINGNET_DISABLE=multishot,bufring.
const EnvDisable = "URINGNET_DISABLE"

// ParseFeatures parses a comma-separated list of feature names
// (multishot, bufring, batch, defertaskrun).
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
			return 0, fmt.Errorf("netserver: unknown feature %q (want multishot, bufring, batch, defertaskrun)", part)
		}
	}
	return f, nil
}

// String lists the features by name.
func (f Features) String() string {
	var names []string
	for _, n := range featureNames {
		if f&n.f != 0 {
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
	// IdleTimeout closes connections with no read or write for this long.
	// Zero means no limit.
	IdleTimeout time.Duration
	// TickInterval is how often a Handler that implements Ticker gets its
	// Tick call on every loop. Zero means never.
	TickInterval time.Duration
	// Disable switches optional features off (forcing fallbacks). New adds
	// the features named in $URINGNET_DISABLE.
	Disable Features
	// Logger receives the server's logs. Default slog.Default().
	Logger *slog.Logger
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
	if c.MaxMemory == 0 {
		c.MaxMemory = DefaultMaxMemory
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
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
