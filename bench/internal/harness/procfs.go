package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the utime and stime fields of /proc/PID/stat: USER_HZ, which the
// kernel fixes at 100 on every architecture Go runs Linux on.
const userHZ = 100

// ProcStat holds the fields of /proc/PID/stat the harness needs.
type ProcStat struct {
	PPID  int
	UTime uint64 // clock ticks (1/100 s), all threads
	STime uint64 // clock ticks (1/100 s), all threads
}

// ParseProcStat parses the contents of /proc/PID/stat. The command name (field 2) may hold
// spaces and parentheses, so parsing starts after its last ')'.
func ParseProcStat(s string) (ProcStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ProcStat{}, errors.New("parse /proc stat: no ')' after the command name")
	}
	// After ')' come field 3 (state), 4 (ppid), ..., 14 (utime), 15 (stime).
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return ProcStat{}, fmt.Errorf("parse /proc stat: %d fields after the name, want at least 13", len(f))
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return ProcStat{}, fmt.Errorf("parse /proc stat ppid: %w", err)
	}
	ut, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return ProcStat{}, fmt.Errorf("parse /proc stat utime: %w", err)
	}
	st, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return ProcStat{}, fmt.Errorf("parse /proc stat stime: %w", err)
	}
	return ProcStat{PPID: ppid, UTime: ut, STime: st}, nil
}

// ParseVmRSS returns the VmRSS line of /proc/PID/status in bytes.
func ParseVmRSS(s string) (int64, error) {
	for line := range strings.Lines(s) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("parse VmRSS %q: want \"N kB\"", strings.TrimSpace(rest))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("parse VmRSS %q: bad number", f[0])
		}
		return kb << 10, nil
	}
	return 0, errors.New("parse status: no VmRSS line (kernel thread or zombie?)")
}

// readProcStat reads and parses /proc/PID/stat.
func readProcStat(pid int) (ProcStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ProcStat{}, err
	}
	st, err := ParseProcStat(string(b))
	if err != nil {
		return ProcStat{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	return st, nil
}

// Children returns the PIDs whose parent is pid (one level), found by scanning /proc.
func Children(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("children of %d: %w", pid, err)
	}
	var kids []int
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil || c == pid {
			continue
		}
		st, err := readProcStat(c)
		if err != nil {
			continue // gone meanwhile, or not readable
		}
		if st.PPID == pid {
			kids = append(kids, c)
		}
	}
	return kids, nil
}

// tree returns pid and, when withChildren is set, its direct children.
func tree(pid int, withChildren bool) []int {
	pids := []int{pid}
	if withChildren {
		kids, _ := Children(pid)
		pids = append(pids, kids...)
	}
	return pids
}

// CPUTime returns the user plus system CPU time that pid (and, when withChildren is set,
// its direct children, such as nginx's workers) has used so far.
func CPUTime(pid int, withChildren bool) (time.Duration, error) {
	var ticks uint64
	for i, p := range tree(pid, withChildren) {
		st, err := readProcStat(p)
		if err != nil {
			if i == 0 {
				return 0, fmt.Errorf("cpu time: %w", err)
			}
			continue
		}
		ticks += st.UTime + st.STime
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// RSS returns the resident set size of pid in bytes (summed with its direct children when
// withChildren is set).
func RSS(pid int, withChildren bool) (int64, error) {
	var total int64
	for i, p := range tree(pid, withChildren) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "status"))
		if err == nil {
			var n int64
			n, err = ParseVmRSS(string(b))
			total += n
		}
		if err != nil && i == 0 {
			return 0, fmt.Errorf("rss of %d: %w", pid, err)
		}
	}
	return total, nil
}

// ParseCtxSwitches returns voluntary_ctxt_switches plus nonvoluntary_ctxt_switches from the
// text of a /proc/.../status file.
func ParseCtxSwitches(s string) (int64, error) {
	var total int64
	found := 0
	for line := range strings.SplitSeq(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "voluntary_ctxt_switches" && k != "nonvoluntary_ctxt_switches") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", k, err)
		}
		total += n
		found++
	}
	if found != 2 {
		return 0, errors.New("no ctxt_switches lines")
	}
	return total, nil
}

// CtxSwitches returns the context switches (voluntary and not) of every thread of pid (and,
// with withChildren, of its direct children) so far. Threads that exited are not counted, so
// read it before and after a run of a server whose threads live on (io-wq workers may come
// and go: a small undercount). Context switches cost several µs each on a virtual machine and,
// unlike CPU time, do not inflate when the machine is busy: a steady figure for comparisons.
func CtxSwitches(pid int, withChildren bool) (int64, error) {
	var total int64
	for i, p := range tree(pid, withChildren) {
		tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(p), "task", "*", "status"))
		if err == nil && len(tasks) == 0 {
			err = errors.New("no tasks")
		}
		if err != nil {
			if i == 0 {
				return 0, fmt.Errorf("ctx switches of %d: %w", pid, err)
			}
			continue
		}
		for _, st := range tasks {
			b, err := os.ReadFile(st)
			if err != nil {
				continue // the thread exited
			}
			if n, err := ParseCtxSwitches(string(b)); err == nil {
				total += n
			}
		}
	}
	return total, nil
}

// OnlineCPUs returns the number of CPUs listed in /sys/devices/system/cpu/online, or 0 when
// that cannot be read.
func OnlineCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return 0
	}
	n := 0
	for part := range bytes.SplitSeq(bytes.TrimSpace(b), []byte(",")) {
		lo, hi, found := bytes.Cut(part, []byte("-"))
		a, err1 := strconv.Atoi(string(lo))
		if !found {
			if err1 == nil {
				n++
			}
			continue
		}
		z, err2 := strconv.Atoi(string(hi))
		if err1 == nil && err2 == nil && z >= a {
			n += z - a + 1
		}
	}
	return n
}
