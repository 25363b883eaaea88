package main

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc/stat's times (USER_HZ, 100 on Linux's ABIs).
const userHZ = 100

// cpuBusy returns how long CPU cpu (a number such as "0") has been busy since boot: the
// user, nice, system, irq, softirq and steal times of its line in /proc/stat (text).
//
// The benchmark charges a setup with CPU 0's busy time rather than its processes' CPU time:
// fcgiwrap ignores SIGCHLD, so the scripts it forks are reaped without their times reaching
// its cutime, and would count for nothing.
func cpuBusy(text, cpu string) (time.Duration, error) {
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "cpu"+cpu {
			continue
		}
		var ticks uint64
		for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system (idle iowait) irq softirq steal
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return 0, err
			}
			ticks += n
		}
		return time.Duration(ticks) * (time.Second / userHZ), nil
	}
	return 0, errors.New("/proc/stat: no line for cpu" + cpu)
}

// readCPUBusy is cpuBusy of the running system.
func readCPUBusy(cpu string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return cpuBusy(string(b), cpu)
}
