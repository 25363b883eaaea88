package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// FindTool returns the path of the program bin, installing the Debian package pkg with
// apt-get (see Apt) when install allows; logf reports the installation.
func FindTool(bin, pkg string, install bool, logf func(format string, args ...any)) (string, error) {
	if p, err := exec.LookPath(bin); err == nil {
		return p, nil
	}
	if !install {
		return "", fmt.Errorf("%s not found (apt-get install %s, or drop -install=false)", bin, pkg)
	}
	if bin == pkg {
		logf("%s not found; installing it with apt-get", bin)
	} else {
		logf("%s not found; installing %s with apt-get", bin, pkg)
	}
	if err := Apt("install", "-y", "--no-install-recommends", pkg); err != nil {
		// Perhaps the package lists are missing or stale (a fresh container).
		if err := Apt("update"); err != nil {
			return "", fmt.Errorf("installing %s: %w", pkg, err)
		}
		if err := Apt("install", "-y", "--no-install-recommends", pkg); err != nil {
			return "", fmt.Errorf("installing %s: %w", pkg, err)
		}
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		if bin == pkg {
			return "", fmt.Errorf("%s was installed but is not on PATH: %w", bin, err)
		}
		return "", fmt.Errorf("%s was installed but %s is not on PATH: %w", pkg, bin, err)
	}
	return p, nil
}

// Apt runs apt-get with args (through sudo -n when not root), its output on stderr.
func Apt(args ...string) error {
	argv := append([]string{"apt-get"}, args...)
	if os.Geteuid() != 0 {
		argv = append([]string{"sudo", "-n"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return nil
}

// LookNginx finds nginx on PATH or in /usr/sbin (not on a normal user's PATH).
func LookNginx() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", errors.New("nginx not installed (apt-get install nginx-light)")
}
