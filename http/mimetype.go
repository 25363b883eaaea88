package http

// fileContentTypes maps a lower-case file extension, without the dot, to
// the Content-Type sent for it. It is never modified.
var fileContentTypes = map[string]string{
	"html":  "text/html; charset=utf-8",
	"htm":   "text/html; charset=utf-8",
	"css":   "text/css; charset=utf-8",
	"js":    "text/javascript; charset=utf-8",
	"mjs":   "text/javascript; charset=utf-8",
	"json":  "application/json",
	"map":   "application/json",
	"txt":   "text/plain; charset=utf-8",
	"md":    "text/markdown; charset=utf-8",
	"xml":   "text/xml; charset=utf-8",
	"svg":   "image/svg+xml",
	"png":   "image/png",
	"jpg":   "image/jpeg",
	"jpeg":  "image/jpeg",
	"gif":   "image/gif",
	"webp":  "image/webp",
	"ico":   "image/vnd.microsoft.icon",
	"wasm":  "application/wasm",
	"pdf":   "application/pdf",
	"zip":   "application/zip",
	"gz":    "application/gzip",
	"mp4":   "video/mp4",
	"webm":  "video/webm",
	"woff":  "font/woff",
	"woff2": "font/woff2",
}

// DefaultContentType is sent for files whose extension is not known.
const DefaultContentType = "application/octet-stream"

// mimeType returns the Content-Type for a file name (or path) from its
// extension, matched case-insensitively: "INDEX.HTML" gives
// "text/html; charset=utf-8". Text types carry "; charset=utf-8"; unknown
// or missing extensions give [DefaultContentType]. It does not allocate
// and never looks at the file's content.
func mimeType(name string) string {
	dot := -1
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		if name[i] == '.' {
			dot = i
			break
		}
	}
	ext := name[dot+1:]
	var buf [8]byte
	if dot < 0 || len(ext) == 0 || len(ext) > len(buf) {
		return DefaultContentType
	}
	for i := range len(ext) {
		c := ext[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	if ct, ok := fileContentTypes[string(buf[:len(ext)])]; ok {
		return ct
	}
	return DefaultContentType
}
