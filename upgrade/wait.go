package upgrade

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Outcome is why Wait returned.
type Outcome int

const (
	// Stopped: SIGINT or SIGTERM came, or ctx ended. Shut down.
	Stopped Outcome = iota
	// Upgraded: a successor is ready and serves. Stop accepting, drain,
	// exit.
	Upgraded
)

// String returns "stopped" or "upgraded".
func (o Outcome) String() string {
	if o == Upgraded {
		return "upgraded"
	}
	return "stopped"
}

// ListenerSource is what Wait takes the sockets from at each upgrade:
// a *netserver.Server (http.Server.Net(), for example).
type ListenerSource interface {
	ListenerFiles() ([]*os.File, error)
}

// Wait handles the signals of a server's life until it must end: SIGHUP
// starts an upgrade with the sockets of src (another SIGHUP meanwhile is
// logged and ignored); a failed upgrade is logged and Wait goes on
// waiting; a successful one returns Upgraded. SIGINT or SIGTERM (which
// also abandon an upgrade in progress, killing its successor) and the end
// of ctx return Stopped.
//
// A SIGHUP that arrived between New and Wait starts an upgrade at once.
func (u *Upgrader) Wait(ctx context.Context, src ListenerSource) Outcome {
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	sigs := make(chan os.Signal, 4)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			var s os.Signal
			select {
			case s = <-u.hup:
			case s = <-stop:
			case <-wctx.Done():
				return
			}
			select {
			case sigs <- s:
			case <-wctx.Done():
				return
			}
		}
	}()
	return u.WaitSignals(ctx, src, sigs)
}

// WaitSignals is Wait on signals delivered by the caller (who may also
// have other uses for them): SIGHUP upgrades, any other signal stops.
func (u *Upgrader) WaitSignals(ctx context.Context, src ListenerSource, sigs <-chan os.Signal) Outcome {
	type result struct {
		pid int
		err error
	}
	uctx, cancel := context.WithCancel(ctx)
	var done chan result // the upgrade running, nil when none
	defer func() {
		cancel() // abandons an upgrade in progress: its successor is killed
		if done != nil {
			<-done
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return Stopped
		case r := <-done:
			done = nil
			if r.err == nil {
				return Upgraded
			}
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				u.log.Info("upgrade: stopping", "signal", sig.String())
				return Stopped
			}
			if done != nil {
				u.ignored.Add(1)
				u.log.Warn("upgrade: SIGHUP ignored: an upgrade is in progress")
				continue
			}
			files, err := src.ListenerFiles()
			if err != nil {
				u.log.Error("upgrade: SIGHUP: no listeners to hand over", "err", err)
				continue
			}
			done = make(chan result, 1)
			go func() {
				pid, err := u.Upgrade(uctx, files)
				for _, f := range files {
					f.Close()
				}
				done <- result{pid, err}
			}()
		}
	}
}
