package http

import "github.com/uringnet/uringnet/sendfile"

func sendfileConfig(noSplice bool) sendfile.Config {
	return sendfile.Config{NoSplice: noSplice, MaxPipes: 2, PipeSize: 256 << 10}
}
