package cache

import (
	"os"
	"syscall"
)

// Identity tells versions of a file apart without reading its content: two
// fstat results with equal identities are treated as the same bytes.
//
// Size and ModTime catch in-place rewrites (ModTime has nanosecond
// resolution on the file systems that matter), Ino and Dev catch a file
// replaced by rename, which is how most deploy tools update content.
type Identity struct {
	Size    int64  // file size in bytes
	ModTime int64  // modification time, Unix nanoseconds
	Ino     uint64 // inode number, 0 when unknown
	Dev     uint64 // device number, 0 when unknown
}

// IdentityOf returns the identity of the file described by fi. Inode and
// device come from fi.Sys() when it is a *syscall.Stat_t (always the case
// for os.Stat and File.Stat on Linux) and are zero otherwise.
func IdentityOf(fi os.FileInfo) Identity {
	id := Identity{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.Ino = uint64(st.Ino)
		id.Dev = uint64(st.Dev) //nolint:unconvert // Dev is not uint64 on every GOARCH
	}
	return id
}
