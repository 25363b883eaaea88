package http

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// pathError reports why a request path cannot be served from a root, with
// the HTTP status to answer.
type pathError struct {
	Status int    // 400, 403, 404, 500 or 503
	Path   string // the path as given (raw request path or cleaned path)
	Err    error  // the cause
}

// Error implements the error interface.
func (e *pathError) Error() string {
	return fmt.Sprintf("http: path %q: %v (status %d)", e.Path, e.Err, e.Status)
}

// Unwrap returns the cause.
func (e *pathError) Unwrap() error { return e.Err }

// Causes carried by a pathError.
var (
	errPathNotAbsolute = errors.New("path does not start with /")
	errPathBadEscape   = errors.New("malformed percent-encoding")
	errPathNUL         = errors.New("NUL byte in path")
	errPathDotDot      = errors.New("'..' segment in path")
	errPathNotRegular  = errors.New("not a regular file")
	errPathNoIndex     = errors.New("directory has no index.html")
)

// DirectoryIndex is the file served for a request that names a directory.
const DirectoryIndex = "index.html"

// cleanPath turns the path of a request target into a clean absolute path
// naming a file under the served root: "/", or "/seg/seg..." with no empty,
// "." or ".." segment, plus a trailing "/" when the request had one (it
// names a directory).
//
// raw is the path as received; anything from the first '?' or '#' on is
// ignored. cleanPath percent-decodes it first and then splits it into
// segments, so an encoded "/" ("%2F") separates segments like a plain one
// and an encoded dot segment ("%2e%2e", "..%2f") is seen for what it is.
// Errors are *pathError:
//
//   - 400 for a path not starting with "/", a malformed %-escape, or a
//     NUL byte (raw or decoded);
//   - 403 for any ".." segment. Such a path is refused, not clamped to the
//     root, since no browser sends one (they remove dot segments before
//     sending) and clamping hides an attack from the logs.
func cleanPath(raw []byte) (string, error) {
	for i, c := range raw {
		if c == '?' || c == '#' {
			raw = raw[:i]
			break
		}
	}
	if len(raw) == 0 || raw[0] != '/' {
		return "", &pathError{Status: 400, Path: string(raw), Err: errPathNotAbsolute}
	}
	dec := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			if i+2 >= len(raw) {
				return "", &pathError{Status: 400, Path: string(raw), Err: errPathBadEscape}
			}
			hi, ok1 := unhexDigit(raw[i+1])
			lo, ok2 := unhexDigit(raw[i+2])
			if !ok1 || !ok2 {
				return "", &pathError{Status: 400, Path: string(raw), Err: errPathBadEscape}
			}
			c = hi<<4 | lo
			i += 2
		}
		if c == 0 {
			return "", &pathError{Status: 400, Path: string(raw), Err: errPathNUL}
		}
		dec = append(dec, c)
	}

	var b strings.Builder
	b.Grow(len(dec))
	trailing := dec[len(dec)-1] == '/'
	dir := false // the last segment was "." (names a directory)
	for len(dec) > 0 {
		i := 0
		for i < len(dec) && dec[i] != '/' {
			i++
		}
		seg := dec[:i]
		if i < len(dec) {
			i++ // the separator
		}
		dec = dec[i:]
		switch string(seg) {
		case "", ".":
			dir = true
			continue
		case "..":
			return "", &pathError{Status: 403, Path: string(raw), Err: errPathDotDot}
		}
		b.WriteByte('/')
		b.Write(seg)
		dir = false
	}
	if b.Len() == 0 {
		return "/", nil
	}
	if dir || trailing {
		b.WriteByte('/')
	}
	return b.String(), nil
}

// openUnder opens the regular file that the clean path (from cleanPath)
// names under root, and returns it with its FileInfo and its final name:
// the clean path of the file actually opened, which is a good cache key
// and what mimeType should look at.
//
// All resolution goes through root (os.Root), so neither ".." nor a
// symbolic link can reach a byte outside it; a symbolic link that stays
// inside the root is followed (os.Root refuses absolute link targets, even
// ones that point inside). A directory, with or without a trailing "/",
// resolves to its [DirectoryIndex]. Errors are *pathError:
//
//   - 404 when the file, a path component, or a directory's index.html
//     does not exist, or a component is not a directory;
//   - 403 for a path that escapes the root, a file that is not regular
//     (device, FIFO, socket), or a permission error;
//   - 503 when the process is out of file descriptors, 500 for I/O errors.
//
// The file is opened with O_NONBLOCK so that a FIFO cannot block the
// calling event loop in open(2); the flag is cleared again before a regular
// file is returned. Non-regular files are closed without being read.
func openUnder(root *os.Root, clean string) (*os.File, os.FileInfo, string, error) {
	name := strings.TrimPrefix(clean, "/")
	if name == "" {
		name = "."
	}
	f, fi, err := openRegularOrDir(root, name)
	if err != nil {
		return nil, nil, "", &pathError{Status: openErrorStatus(err), Path: clean, Err: err}
	}
	if fi.IsDir() {
		f.Close()
		name = strings.TrimSuffix(name, "/") + "/" + DirectoryIndex
		if clean == "/" {
			name = DirectoryIndex
		}
		f, fi, err = openRegularOrDir(root, name)
		switch {
		case err != nil && errors.Is(err, fs.ErrNotExist):
			return nil, nil, "", &pathError{Status: 404, Path: clean, Err: errPathNoIndex}
		case err != nil:
			return nil, nil, "", &pathError{Status: openErrorStatus(err), Path: clean, Err: err}
		case fi.IsDir():
			f.Close()
			return nil, nil, "", &pathError{Status: 403, Path: clean, Err: errPathNotRegular}
		}
	}
	if err := clearNonblock(f); err != nil {
		f.Close()
		return nil, nil, "", &pathError{Status: 500, Path: clean, Err: err}
	}
	return f, fi, "/" + strings.TrimSuffix(name, "/"), nil
}

// openRegularOrDir opens name under root and returns it if it is a regular
// file or a directory; anything else is closed and refused.
func openRegularOrDir(root *os.Root, name string) (*os.File, os.FileInfo, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		f.Close()
		return nil, nil, errPathNotRegular
	}
	return f, fi, nil
}

// clearNonblock puts f back into blocking mode: a regular file read through
// io_uring or splice with O_NONBLOCK set could fail with EAGAIN instead of
// waiting for the disk.
func clearNonblock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("clear O_NONBLOCK: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return fmt.Errorf("clear O_NONBLOCK: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("clear O_NONBLOCK: %w", serr)
	}
	return nil
}

// openErrorStatus maps an open or stat error to the status to answer.
func openErrorStatus(err error) int {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ENAMETOOLONG):
		return 404
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE), errors.Is(err, syscall.ENOMEM):
		return 503
	case errors.Is(err, syscall.EIO):
		return 500
	}
	return 403 // permission, escapes from the root, symlink loops, not regular
}

// CleanPath applies the path rules of SendFile to a raw request path for
// another package that serves files (or programs) under a root, such as
// package cgi: it returns the clean absolute path (see SendFile: no "..",
// no NUL, percent-decoded, "/" separated), or the status to answer (400
// or 403) with the error that says why.
func CleanPath(raw []byte) (clean string, status int, err error) {
	clean, err = cleanPath(raw)
	if err != nil {
		var pe *pathError
		if errors.As(err, &pe) {
			return "", pe.Status, err
		}
		return "", StatusBadRequest, err
	}
	return clean, 0, nil
}

// OpenErrorStatus maps an error from opening or stating a file under a
// root to the status SendFile would answer: 404 for a missing file or
// path component, 503 when out of file descriptors or memory, 500 for I/O
// errors, 403 otherwise (permissions, escapes from the root).
func OpenErrorStatus(err error) int { return openErrorStatus(err) }
