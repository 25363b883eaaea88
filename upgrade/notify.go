package upgrade

import (
	"fmt"
	"net"
	"os"
)

// notifySystemd tells systemd (sd_notify(3), when NOTIFY_SOCKET is set)
// that this process is the service's main process now, and ready. Under
// Type=notify with NotifyAccess=all, systemd follows the upgrade from one
// process to the next instead of taking the predecessor's exit for the
// service's end.
func notifySystemd(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' {
		path = "\x00" + path[1:] // an abstract socket
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("upgrade: notifying systemd: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("upgrade: notifying systemd: %w", err)
	}
	return nil
}
