package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// PinLoadPair pins the servers to CPU 0 and the load generator to CPU 1 when it can; when
// it cannot, it reports why with logf and returns "" for both (unpinned).
func PinLoadPair(logf func(format string, args ...any)) (serverCPU, loadCPU string) {
	serverCPU, err0 := PinCPU(0)
	loadCPU, err1 := PinCPU(1)
	if err0 != nil || err1 != nil {
		logf("running unpinned: %v", errors.Join(err0, err1))
		return "", ""
	}
	return serverCPU, loadCPU
}

// StartChecked starts spec's server in g and checks that a uringnet demo server runs the
// backend it was started for (CheckBackend; over HTTPS with tlsc); on error the server is
// killed.
func (g *Group) StartChecked(ctx context.Context, spec Spec, backend string, tlsc *tls.Config) (*Proc, error) {
	proc, err := g.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	if err := CheckBackend(ctx, proc.Addr, backend, tlsc); err != nil {
		proc.Kill()
		return nil, err
	}
	return proc, nil
}

// StopChecked stops p (Stop, reporting its error with logf) and returns its final stats
// line with the error of FinalBackend: whether the uringnet demo server ran backend.
func (p *Proc) StopChecked(backend string, logf func(format string, args ...any)) (string, error) {
	stats, err := p.Stop(5 * time.Second)
	if err != nil {
		logf("%v", err)
	}
	return stats, FinalBackend(stats, backend)
}

// GoServer builds the Go server pkg of the module in dir into out, unless built already
// holds out's outcome, and returns the spec of the server listening on an address: pinned
// to cpu, GOMAXPROCS=1 before env, and "-addr ADDR -root www" before extra.
func GoServer(ctx context.Context, built map[string]error, dir, pkg, out, cpu, www string, env, extra []string) (func(addr string) (Spec, error), error) {
	err, done := built[out]
	if !done {
		err = GoBuild(ctx, dir, pkg, out)
		built[out] = err
	}
	if err != nil {
		return nil, err
	}
	return func(addr string) (Spec, error) {
		return Spec{Path: out, CPU: cpu, Env: append([]string{"GOMAXPROCS=1"}, env...),
			Args: append([]string{"-addr", addr, "-root", www}, extra...)}, nil
	}, nil
}

// NginxServer returns the spec of a fresh nginx listening on an address: a directory of its
// own under tmp (named "name-N", N counting the servers), the configuration config(dir,
// addr) written into it, pinned to cpu.
func NginxServer(nginx, tmp, name, cpu string, config func(dir, addr string) string) func(addr string) (Spec, error) {
	n := 0
	return func(addr string) (Spec, error) {
		n++
		dir := filepath.Join(tmp, fmt.Sprintf("%s-%d", name, n))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return Spec{}, err
		}
		conf := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(conf, []byte(config(dir, addr)), 0o644); err != nil {
			return Spec{}, err
		}
		return Spec{Path: nginx, Args: NginxArgs(dir, conf), CPU: cpu, ReadyDial: addr}, nil
	}
}
