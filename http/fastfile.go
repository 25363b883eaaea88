package http

import (
	"github.com/uringnet/uringnet/cache"
	"golang.org/x/sys/unix"
)

// cachedFile returns the cache entry for clean when the file it names under
// the root is a regular file whose identity (size, mtime, inode, device)
// matches the cached copy. It costs one openat2 with RESOLVE_BENEATH (the
// lookup cannot leave the root; absolute symlinks and escaping relative
// ones fail), one fstat and one close, and no os.File. Anything else
// (a miss, a directory, an error) returns false and SendFile takes the
// full path through openUnder, which also gives the right error status.
func (s *Server) cachedFile(clean string) (*cache.Entry, bool) {
	if s.rootFD < 0 || len(clean) < 2 || clean[len(clean)-1] == '/' {
		return nil, false
	}
	fd, err := unix.Openat2(s.rootFD, clean[1:], &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, false
	}
	var st unix.Stat_t
	err = unix.Fstat(fd, &st)
	unix.Close(fd)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
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
