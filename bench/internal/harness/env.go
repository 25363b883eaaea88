package harness

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Describe returns a one-line description of the machine for benchmark reports: kernel,
// CPU model, CPUs online, Go version, date.
func Describe() string {
	kernel := "?"
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		kernel = cString(u.Release[:])
	}
	model := "?"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("Linux %s, %s, %d CPUs online, %s, %s", kernel, model, OnlineCPUs(),
		runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
}

func cString(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}
