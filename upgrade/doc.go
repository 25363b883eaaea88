// Package upgrade replaces a running server's process with a new one
// without refusing a connection: the zero-downtime upgrade of nginx's
// USR2 and of cloudflare/tableflip, for servers whose listening sockets
// belong to netserver's loops.
//
// The running process (the predecessor) starts its successor (the same
// binary by default, or Config.Path) with its listening sockets as
// inherited descriptors (exec.Cmd.ExtraFiles, from fd 3) and the write end
// of a readiness pipe after them; three environment variables say so
// (EnvFDs, EnvReady, EnvParent). The successor gives the sockets to its
// server (netserver.Config.Listeners, through Upgrader.Listeners), and
// calls Upgrader.Ready once its loops serve. The predecessor waits for
// that, within Config.ReadyTimeout; then it stops accepting and drains
// (its application's business: see http.Server.Drain and
// websocket.Server.Shutdown), and exits. Until the successor is ready,
// the predecessor accepts as before; if the successor exits, fails to
// start or is not ready in time, it is killed and the predecessor serves
// on, so an upgrade never leaves the sockets without a process accepting
// on them. The sockets are the same sockets throughout (no new bind):
// connections waiting in their backlogs are accepted by one process or
// the other, never reset.
//
// New also takes sockets from systemd's socket activation (LISTEN_FDS,
// see package activation), so one call covers both ways a process may be
// handed its listeners.
//
// Upgrader.Wait is the signal plumbing: SIGHUP upgrades (a second SIGHUP
// while one is in progress is logged and ignored), SIGINT and SIGTERM
// stop. It returns what happened; the caller then drains and exits.
//
// This package must never bind a socket, close the server's own
// listeners, or leave a successor running that did not become ready.
package upgrade
