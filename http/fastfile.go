package http

import (
	"github.com/uringnet/uringnet/cache"
	"golang.org/x/sys/unix"
)

// cachedFile returns the cache entry for clean when the file it names under
// the root is a regular file whose identity (size, mtime, inode, device)
// matches the cached copy. It costs one fstatat on the root's descriptor
// (AT_SYMLINK_NOFOLLOW), and no os.File: syscalls are the dearest part of a
// small-file response (openat2, fstat and close, which this replaced, cost
// 2.5x as much). The bytes served are always bytes that were read through
// os.Root from this path; the stat only decides whether they are still
// current. A path that now leads elsewhere through a symlinked directory
// can match only if it reaches the very same inode on the same device (the
// same file, whose bytes these are); a symlink as the last component is no
// regular file. Anything else (a miss, a directory, an error) returns false
// and SendFile takes the full path through OpenUnder, which also gives the
// right error status.
func (s *Server) cachedFile(clean string) (*cache.Entry, bool) {
	if s.rootFD < 0 || len(clean) < 2 || clean[len(clean)-1] == '/' {
		return nil, false
	}
	var st unix.Stat_t
	if err := unix.Fstatat(s.rootFD, clean[1:], &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, false
	}
	return s.cache.Get(clean, cache.Identity{Size: st.Size, ModTime: st.Mtim.Nano(), Ino: st.Ino, Dev: st.Dev})
}

// closeRoot closes the served root.
func (s *Server) closeRoot() {
	if s.root != nil {
		s.root.Close()
	}
	if s.rootFD >= 0 {
		unix.Close(s.rootFD)
		s.rootFD = -1
	}
}
