// Package activation takes over the listening sockets that systemd (or
// systemd-socket-activate, or anything else speaking the same protocol)
// hands a process through socket activation, as sd_listen_fds(3) and
// sd_listen_fds_with_names(3) describe: the sockets are open at file
// descriptors FirstFD, FirstFD+1, ..., and the environment says how many
// there are (LISTEN_FDS), which process they are meant for (LISTEN_PID) and,
// optionally, their names (LISTEN_FDNAMES, colon-separated).
//
// Parse reads those variables without touching any file descriptor, so it
// can be tested with any environment. Files turns the descriptors into
// *os.File values, named after LISTEN_FDNAMES ("unknown" when absent, as
// systemd does), marks them close-on-exec, and can unset the variables so
// that child processes do not take them for their own.
//
// What this package must never do: bind, listen on or close a socket itself
// (the sockets belong to the service manager's configuration; a server that
// was not activated falls back to binding its own, elsewhere), take
// descriptors meant for another process (LISTEN_PID differs from ours), or
// guess at malformed variables (they are errors, not "not activated").
package activation
