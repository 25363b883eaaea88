package fastcgi

import (
	"net"
	"strconv"
	"strings"

	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// Script names the script a request runs: its file (SCRIPT_FILENAME), its
// URL path (SCRIPT_NAME) and the document root (DOCUMENT_ROOT, may be "").
type Script struct {
	Filename, Name, DocumentRoot string
}

// Params returns the CGI/1.1 environment of req (RFC 3875 §4.1) as
// FCGI_PARAMS, with SCRIPT_FILENAME and DOCUMENT_ROOT: what Serve sends.
// ns gives the addresses of hc. Call it on hc's loop, from HTTPRead (req
// is valid there only).
func Params(req *http.Request, hc netserver.ClientNum, ns *netserver.Server, sc Script) []Param {
	p := make([]Param, 0, 24+len(req.Headers))
	add := func(n, v string) { p = append(p, Param{n, v}) }
	add("GATEWAY_INTERFACE", "CGI/1.1")
	add("SERVER_SOFTWARE", "uringnet")
	add("SERVER_PROTOCOL", "HTTP/"+strconv.Itoa(req.Major)+"."+strconv.Itoa(req.Minor))
	add("REQUEST_METHOD", string(req.Method))
	add("REQUEST_URI", string(req.Target))
	add("QUERY_STRING", string(req.Query))
	add("SCRIPT_NAME", sc.Name)
	add("SCRIPT_FILENAME", sc.Filename)
	if sc.DocumentRoot != "" {
		add("DOCUMENT_ROOT", sc.DocumentRoot)
	}
	if path := string(req.Path); strings.HasPrefix(path, sc.Name) && len(path) > len(sc.Name) {
		add("PATH_INFO", path[len(sc.Name):])
	}
	host := string(req.Host)
	name, port := host, ""
	if h, pt, err := net.SplitHostPort(host); err == nil {
		name, port = h, pt
	}
	if a, ok := ns.Addr().(*net.TCPAddr); ok {
		if port == "" {
			port = strconv.Itoa(a.Port)
		}
		if name == "" {
			name = a.IP.String()
		}
	}
	add("SERVER_NAME", name)
	add("SERVER_PORT", port)
	if a, err := ns.RemoteAddr(hc); err == nil {
		if h, pt, err := net.SplitHostPort(a.String()); err == nil {
			add("REMOTE_ADDR", h)
			add("REMOTE_PORT", pt)
		}
	}
	if req.ContentLength >= 0 && req.Body == http.BodyLength {
		add("CONTENT_LENGTH", strconv.FormatInt(req.ContentLength, 10))
	}
	if ct := req.Header("Content-Type"); ct != nil {
		add("CONTENT_TYPE", string(ct))
	}
	for _, h := range req.Headers {
		n := cgiName(h.Name)
		switch n {
		case "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_PROXY", "":
			continue // carried above, or httpoxy
		}
		add(n, string(h.Value))
	}
	return p
}

// cgiName returns HTTP_ and the field name upper-cased with '-' as '_',
// or "" for a name with other bytes.
func cgiName(name []byte) string {
	b := make([]byte, 0, 5+len(name))
	b = append(b, "HTTP_"...)
	for _, ch := range name {
		switch {
		case ch >= 'a' && ch <= 'z':
			b = append(b, ch-32)
		case ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
			b = append(b, ch)
		case ch == '-':
			b = append(b, '_')
		default:
			return ""
		}
	}
	return string(b)
}
