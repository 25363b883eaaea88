package cgi

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// Pipe kinds.
const (
	pipeStdin = iota
	pipeStdout
	pipeStderr
)

// pipe is the entry of one of a job's pipes in its loop's table.
type pipe struct {
	j    *job
	kind int
}

// job is one script run. Every field is touched on the loop of its HTTP
// client only (the reaper goroutine posts back with RunOnLoop).
type job struct {
	h     *Handler
	c     netserver.ClientNum
	loop  int
	req   *http.Request // a clone, for a local redirect
	proc  *os.Process
	pgid  int
	pc    [3]netserver.ClientNum // stdin, stdout, stderr
	open  [3]bool                // the pipe client is not closed yet
	out   *Output
	timer *time.Timer

	free    [][]byte // stdout buffers not in use
	reading bool     // a stdout read is in flight
	outEnd  bool     // stdout reading is over (EOF, failure, stop)
	// closeWait: stdout reached EOF before the process was reaped; the
	// response ends (Output.Close) once it is, so that the client's next
	// request finds the script's concurrency slot free again.
	closeWait bool

	stdinQueued int
	bodyPaused  bool
	bodyLast    bool

	errBuf  []byte
	errLine []byte

	exited     bool
	clientGone bool
	stopped    bool
	finished   bool
}

// start makes the pipes, starts the process and adopts the pipes on the
// client's loop.
func (j *job) start(p EnvParams, env []string) error {
	var fds [3][2]int
	made := 0
	closeAll := func() {
		for i := 0; i < made; i++ {
			unix.Close(fds[i][0])
			unix.Close(fds[i][1])
		}
	}
	for i := range fds {
		if err := unix.Pipe2(fds[i][:], unix.O_CLOEXEC); err != nil {
			closeAll()
			return fmt.Errorf("cgi: pipe: %w", err)
		}
		made++
	}
	// The child's ends: stdin reads fds[0][0], stdout and stderr write
	// fds[1][1] and fds[2][1]. Ours are the others, non-blocking.
	child := [3]int{fds[0][0], fds[1][1], fds[2][1]}
	mine := [3]int{fds[0][1], fds[1][0], fds[2][0]}
	files := make([]*os.File, 3)
	for i, fd := range child {
		files[i] = os.NewFile(uintptr(fd), "cgi-pipe")
	}
	proc, err := os.StartProcess(p.ScriptFilename, []string{p.ScriptFilename}, &os.ProcAttr{
		Dir:   filepath.Dir(p.ScriptFilename),
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		for _, fd := range mine {
			unix.Close(fd)
		}
		return fmt.Errorf("cgi: starting %s: %w", p.ScriptFilename, err)
	}
	j.proc, j.pgid = proc, proc.Pid
	h := j.h
	lj := &h.loops[j.loop]
	for i, fd := range mine {
		var pc netserver.ClientNum
		if err == nil {
			if err = unix.SetNonblock(fd, true); err == nil {
				pc, err = h.ns.PassFD(fd)
			}
		}
		if err != nil {
			unix.Close(fd)
			continue
		}
		if err := h.ns.SetHandler(pc, h.pipes); err != nil {
			h.ns.Abort(pc)
			continue
		}
		j.pc[i], j.open[i] = pc, true
		lj.pipes[pc] = &pipe{j: j, kind: i}
	}
	j.out = NewOutput(OutputConfig{Server: h.srv, Client: j.c, Head: j.req.IsHead(),
		HTTP10:  j.req.Major == 1 && j.req.Minor == 0,
		NPH:     strings.HasPrefix(filepath.Base(p.ScriptFilename), "nph-"),
		Release: j.release})
	lj.clients[j.c] = j
	h.reapers.Add(1)
	go j.reap()
	j.timer = time.AfterFunc(h.cfg.Timeout, func() { h.ns.RunOnLoop(j.loop, j.timeout) })
	if err != nil {
		// The process runs but its pipes could not all be adopted.
		j.stop()
		h.cnt.s503.Add(1)
		j.out.Abort(http.StatusServiceUnavailable)
		return nil
	}
	if j.req.Body != http.BodyLength || j.req.ContentLength <= 0 {
		j.closePipe(pipeStdin)
	}
	j.free = [][]byte{make([]byte, stdoutBufSize), make([]byte, stdoutBufSize)}
	j.readStdout()
	j.errBuf = make([]byte, stderrBufSize)
	j.readStderr()
	return nil
}

// reap waits for the process on a goroutine of its own: while the exited
// leader is still a zombie (its pid, hence the group id, cannot be reused)
// whatever it left running in its group is killed; then it is reaped and
// the loop told.
func (j *job) reap() {
	h := j.h
	defer h.reapers.Done()
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, j.proc.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	unix.Kill(-j.pgid, unix.SIGKILL)
	st, err := j.proc.Wait()
	h.running.Add(-1)
	if err != nil || !st.Success() {
		h.cnt.exitedNonZero.Add(1)
	}
	h.ns.RunOnLoop(j.loop, j.reaped)
}

// reaped runs on the loop once the process was reaped.
func (j *job) reaped() {
	j.exited = true
	if j.closeWait {
		j.closeWait = false
		j.closeOutput()
	}
	j.maybeFinish()
	j.maybeUnmap()
}

// closeOutput ends the response after stdout's EOF.
func (j *job) closeOutput() {
	if j.clientGone {
		return
	}
	if err := j.out.Close(); err != nil {
		j.outputFailed(err)
	}
}

// kill kills the process group, while the leader is not reaped.
func (j *job) kill() {
	if !j.exited {
		unix.Kill(-j.pgid, unix.SIGKILL)
	}
}

// stop kills the script and closes its pipes.
func (j *job) stop() {
	if j.stopped {
		return
	}
	j.stopped = true
	j.kill()
	for i := range j.pc {
		j.closePipe(i)
	}
	j.outEnd = true
	j.maybeFinish()
}

// closePipe closes one pipe at once.
func (j *job) closePipe(i int) {
	if j.open[i] {
		j.h.ns.Abort(j.pc[i])
	}
}

// timeout runs on the loop when Config.Timeout has passed.
func (j *job) timeout() {
	if j.finished || j.stopped && j.exited {
		return
	}
	h := j.h
	h.cnt.timeouts.Add(1)
	h.log.Warn("cgi: script timed out", "script", string(j.req.Path), "timeout", h.cfg.Timeout)
	if !j.clientGone && !j.outEnd {
		if !j.out.HeadSent() {
			h.cnt.s504.Add(1)
		}
		j.out.Abort(http.StatusGatewayTimeout)
	}
	j.stop()
}

// maybeFinish forgets the job once its process is reaped and its pipes
// are closed.
func (j *job) maybeFinish() {
	if j.finished || !j.exited || j.open[0] || j.open[1] || j.open[2] {
		return
	}
	j.finished = true
	j.timer.Stop()
	j.maybeUnmap()
}

// maybeUnmap stops routing the client's callbacks to the job once its
// output is over and no buffer is pending.
func (j *job) maybeUnmap() {
	if !j.outEnd || j.closeWait || j.out.Pending() > 0 {
		return
	}
	lj := &j.h.loops[j.loop]
	if lj.clients[j.c] == j {
		delete(lj.clients, j.c)
	}
}

// body writes a piece of the request body to stdin.
func (j *job) body(data []byte, last bool) {
	if last {
		j.bodyLast = true
	}
	if !j.open[pipeStdin] {
		return
	}
	if len(data) > 0 {
		b := append([]byte(nil), data...)
		if err := j.h.ns.RawWrite(j.pc[pipeStdin], b); err != nil {
			j.closePipe(pipeStdin)
			return
		}
		j.stdinQueued += len(b)
		if j.stdinQueued > j.h.cfg.MaxStdinQueued && !j.bodyPaused {
			j.bodyPaused = true
			j.h.srv.PauseBody(j.c)
		}
	}
	if last {
		j.h.ns.RawClose(j.pc[pipeStdin]) // after the writes queued
	}
}

// stdinWritten runs when a write to stdin completed.
func (j *job) stdinWritten(n int, failed bool) {
	j.stdinQueued -= n
	if failed {
		// The script closed its stdin: the rest of the body is dropped.
		j.closePipe(pipeStdin)
	}
	if j.bodyPaused && (failed || j.stdinQueued <= j.h.cfg.MaxStdinQueued/2) {
		j.bodyPaused = false
		j.h.srv.ResumeBody(j.c)
	}
}

// readStdout reads stdout into a free buffer, if there is one and no read
// is in flight.
func (j *job) readStdout() {
	if j.reading || j.outEnd || !j.open[pipeStdout] || len(j.free) == 0 {
		return
	}
	buf := j.free[len(j.free)-1]
	j.free = j.free[:len(j.free)-1]
	if err := j.h.ns.RawRead(j.pc[pipeStdout], buf); err != nil {
		j.free = append(j.free, buf)
		return
	}
	j.reading = true
}

// release takes back a stdout buffer the client's write is done with.
func (j *job) release(buf []byte) {
	j.free = append(j.free, buf[:cap(buf)])
	j.readStdout()
}

// stdout handles a stdout read.
func (j *job) stdout(data []byte, failed bool) {
	j.reading = false
	if j.outEnd {
		return
	}
	if failed || len(data) == 0 {
		j.outEnd = true
		if j.exited {
			j.closeOutput()
		} else {
			j.closeWait = true
		}
		j.closePipe(pipeStdout)
		j.closePipe(pipeStdin)
		j.maybeUnmap()
		return
	}
	if j.clientGone {
		j.free = append(j.free, data[:cap(data)])
		return
	}
	kept, err := j.out.Write(data)
	if !kept {
		j.free = append(j.free, data[:cap(data)])
	}
	if err != nil {
		j.outEnd = true
		j.outputFailed(err)
		var (
			he *HeadError
			lr *LocalRedirect
		)
		if !errors.As(err, &he) && !errors.As(err, &lr) {
			// The client's writes failed: it is gone (HTTPClose follows,
			// after the Output was unmapped).
			j.goneClient()
		}
		j.stop()
		j.maybeUnmap()
		if r, ok := err.(*LocalRedirect); ok && !j.clientGone {
			j.h.redirect(j, r)
		}
		return
	}
	j.readStdout()
}

// goneClient records that the client went away while the script ran.
func (j *job) goneClient() {
	if j.clientGone {
		return
	}
	j.clientGone = true
	if !j.exited && !j.stopped {
		j.h.cnt.killedGone.Add(1)
	}
}

// outputFailed counts and logs a failed output.
func (j *job) outputFailed(err error) {
	var he *HeadError
	if errors.As(err, &he) {
		j.h.cnt.s502.Add(1)
		j.h.log.Warn("cgi: bad script output", "script", string(j.req.Path), "err", err)
	}
}

// readStderr reads stderr.
func (j *job) readStderr() {
	if j.open[pipeStderr] {
		j.h.ns.RawRead(j.pc[pipeStderr], j.errBuf)
	}
}

// stderr handles a stderr read: complete lines are logged (rate-limited,
// truncated), a partial one kept up to MaxStderrLine bytes.
func (j *job) stderr(data []byte, failed bool) {
	if failed || len(data) == 0 {
		if len(j.errLine) > 0 {
			j.logLine(j.errLine)
			j.errLine = nil
		}
		j.closePipe(pipeStderr)
		return
	}
	maxLen := j.h.cfg.MaxStderrLine
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			room := maxLen - len(j.errLine)
			if room > 0 {
				j.errLine = append(j.errLine, data[:min(room, len(data))]...)
			}
			break
		}
		line := data[:i]
		data = data[i+1:]
		if len(j.errLine) > 0 {
			room := maxLen - len(j.errLine)
			j.errLine = append(j.errLine, line[:max(0, min(room, len(line)))]...)
			line = j.errLine
		}
		j.logLine(line)
		j.errLine = j.errLine[:0]
	}
	j.readStderr()
}

// logLine logs one stderr line, if the rate limit lets it.
func (j *job) logLine(line []byte) {
	h := j.h
	if len(line) > h.cfg.MaxStderrLine {
		line = line[:h.cfg.MaxStderrLine]
	}
	if !h.bucket.allow(time.Now()) {
		h.cnt.stderrDropped.Add(1)
		return
	}
	h.cnt.stderrLines.Add(1)
	h.log.Info("cgi: stderr", "script", string(j.req.Path), "pid", j.pgid, "line", string(bytes.TrimSuffix(line, []byte{'\r'})))
}

// pipeHandler receives the callbacks of the pipes (netserver's SetHandler).
type pipeHandler struct {
	netserver.NopHandler
	h *Handler
}

// RawRead delivers a stdout or stderr read.
func (ph *pipeHandler) RawRead(data []byte, c netserver.ClientNum, failed bool) {
	p := ph.h.loops[c.Loop()].pipes[c]
	if p == nil {
		return
	}
	switch p.kind {
	case pipeStdout:
		p.j.stdout(data, failed)
	case pipeStderr:
		p.j.stderr(data, failed)
	}
}

// RawWrite completes a write to stdin.
func (ph *pipeHandler) RawWrite(data []byte, c netserver.ClientNum, failed bool) {
	if p := ph.h.loops[c.Loop()].pipes[c]; p != nil && p.kind == pipeStdin {
		p.j.stdinWritten(len(data), failed)
	}
}

// RawClose forgets a closed pipe.
func (ph *pipeHandler) RawClose(c netserver.ClientNum, _ error) {
	lj := &ph.h.loops[c.Loop()]
	p := lj.pipes[c]
	if p == nil {
		return
	}
	delete(lj.pipes, c)
	p.j.open[p.kind] = false
	if p.kind == pipeStdout && !p.j.outEnd {
		// Closed under us (a server shutdown): the output ends here.
		p.j.stdout(nil, true)
	}
	p.j.maybeFinish()
}
