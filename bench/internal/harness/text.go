package harness

import "strings"

// FirstLine returns s up to its first newline.
func FirstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// OrAny names a CPU for a report: cpu, or "any (unpinned)" when it is "".
func OrAny(cpu string) string {
	if cpu == "" {
		return "any (unpinned)"
	}
	return cpu
}
