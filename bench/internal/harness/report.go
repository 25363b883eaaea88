package harness

import (
	"fmt"
	"os"
	"strings"
)

// ShellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=+,.:/@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CommandLine returns "go run ./cmd/NAME ARGS..." with ARGS shell-quoted: the exact command
// to run again from the bench directory.
func CommandLine(name string, args []string) string {
	parts := []string{"go", "run", "./cmd/" + name}
	for _, a := range args {
		parts = append(parts, ShellQuote(a))
	}
	return strings.Join(parts, " ")
}

// Header returns the start of a benchmark report: a title, the machine, and the command.
func Header(title, command string) string {
	return fmt.Sprintf("## %s\n\nMachine: %s  \nCommand (in bench/): `%s`\n\n", title, Describe(), command)
}

// WriteReport prints report to stdout and, when path is not empty, writes it there too.
func WriteReport(report, path string) error {
	fmt.Print(report)
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
