package cgi

import (
	"net"
	"strconv"
	"strings"

	"github.com/uringnet/uringnet/http"
)

// ServerSoftware is the default SERVER_SOFTWARE.
const ServerSoftware = "uringnet"

// EnvParams is what the environment of one request is built from, besides
// the request itself. The zero value of each field gives an empty (or
// default) variable.
type EnvParams struct {
	// Remote is the client's address (netserver's RemoteAddr): REMOTE_ADDR
	// and REMOTE_PORT.
	Remote net.Addr
	// Local is the address the request came in on (the listener's):
	// SERVER_PORT, and SERVER_NAME when the request has no Host.
	Local net.Addr
	// ScriptName is the URL path of the script ("/cgi-bin/env.sh").
	ScriptName string
	// PathInfo is the rest of the path after ScriptName ("/a/b"), decoded.
	PathInfo string
	// PathTranslated is PathInfo mapped to the file system (DocumentRoot
	// joined with PathInfo), or empty when there is no PathInfo.
	PathTranslated string
	// ScriptFilename is the file system path of the script.
	ScriptFilename string
	// DocumentRoot is the directory the scripts live in.
	DocumentRoot string
	// TLS sets HTTPS=on.
	TLS bool
	// Software is SERVER_SOFTWARE (default ServerSoftware).
	Software string
	// Path is PATH (default "/usr/local/bin:/usr/bin:/bin").
	Path string
	// Extra is appended as is ("K=V" each): configured variables.
	Extra []string
}

// DefaultPath is the PATH scripts get unless configured otherwise.
const DefaultPath = "/usr/local/bin:/usr/bin:/bin"

// Env returns the RFC 3875 environment of req as "NAME=value" strings, in
// a fixed order: GATEWAY_INTERFACE, SERVER_SOFTWARE, SERVER_NAME,
// SERVER_PORT, SERVER_PROTOCOL, REQUEST_METHOD, REQUEST_URI, SCRIPT_NAME,
// PATH_INFO, PATH_TRANSLATED, SCRIPT_FILENAME, DOCUMENT_ROOT, QUERY_STRING,
// REMOTE_ADDR, REMOTE_PORT, CONTENT_TYPE and CONTENT_LENGTH (when the
// request has them), REDIRECT_STATUS=200, HTTPS=on under TLS, PATH, then
// every request header as HTTP_NAME (upper case, '-' to '_'; fields of the
// same name joined with ", "), except Proxy (httpoxy), Content-Type and
// Content-Length (already above) and names with bytes other than letters,
// digits and '-' (they could not be told apart from others once
// translated), then p.Extra. FastCGI sends the same list as FCGI_PARAMS:
// split each string at its first '='.
//
// Values are copied: the result does not reference req's buffer. A
// request with a chunked body gets no CONTENT_LENGTH.
func Env(req *http.Request, p EnvParams) []string {
	env := make([]string, 0, 24+len(req.Headers)+len(p.Extra))
	add := func(k, v string) { env = append(env, k+"="+v) }
	software := p.Software
	if software == "" {
		software = ServerSoftware
	}
	host, port := splitHost(string(req.Host))
	lhost, lport := addrHostPort(p.Local)
	if host == "" {
		host = lhost
	}
	if port == "" {
		port = lport
	}
	if port == "" {
		port = "80"
		if p.TLS {
			port = "443"
		}
	}
	add("GATEWAY_INTERFACE", "CGI/1.1")
	add("SERVER_SOFTWARE", software)
	add("SERVER_NAME", host)
	add("SERVER_PORT", port)
	add("SERVER_PROTOCOL", "HTTP/"+strconv.Itoa(req.Major)+"."+strconv.Itoa(req.Minor))
	add("REQUEST_METHOD", string(req.Method))
	add("REQUEST_URI", string(req.Target))
	add("SCRIPT_NAME", p.ScriptName)
	add("PATH_INFO", p.PathInfo)
	add("PATH_TRANSLATED", p.PathTranslated)
	add("SCRIPT_FILENAME", p.ScriptFilename)
	add("DOCUMENT_ROOT", p.DocumentRoot)
	add("QUERY_STRING", string(req.Query))
	rhost, rport := addrHostPort(p.Remote)
	add("REMOTE_ADDR", rhost)
	add("REMOTE_PORT", rport)
	if ct := req.Header("Content-Type"); ct != nil {
		add("CONTENT_TYPE", string(ct))
	}
	if req.Body == http.BodyLength && req.ContentLength >= 0 {
		add("CONTENT_LENGTH", strconv.FormatInt(req.ContentLength, 10))
	}
	add("REDIRECT_STATUS", "200")
	if p.TLS {
		add("HTTPS", "on")
	}
	path := p.Path
	if path == "" {
		path = DefaultPath
	}
	add("PATH", path)
	seen := make(map[string]int, len(req.Headers))
	for _, h := range req.Headers {
		name, ok := headerVar(h.Name)
		if !ok {
			continue
		}
		if i, dup := seen[name]; dup {
			env[i] += ", " + string(h.Value)
			continue
		}
		seen[name] = len(env)
		add(name, string(h.Value))
	}
	return append(env, p.Extra...)
}

// headerVar returns the variable name of header field name, or false for
// a field that must not become one.
func headerVar(name []byte) (string, bool) {
	if len(name) == 0 {
		return "", false
	}
	switch strings.ToLower(string(name)) {
	case "proxy", "content-type", "content-length":
		return "", false
	}
	b := make([]byte, 0, 5+len(name))
	b = append(b, "HTTP_"...)
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b = append(b, c)
		case c == '-':
			b = append(b, '_')
		default:
			return "", false
		}
	}
	return string(b), true
}

// splitHost splits a Host value into host and port (either may be empty).
func splitHost(hp string) (string, string) {
	if hp == "" {
		return "", ""
	}
	if h, p, err := net.SplitHostPort(hp); err == nil {
		return h, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(hp, "["), "]"), ""
}

// addrHostPort returns the host and port of a TCP address (the string of
// any other address as host).
func addrHostPort(a net.Addr) (string, string) {
	switch a := a.(type) {
	case nil:
		return "", ""
	case *net.TCPAddr:
		return a.IP.String(), strconv.Itoa(a.Port)
	}
	if h, p, err := net.SplitHostPort(a.String()); err == nil {
		return h, p
	}
	return a.String(), ""
}
