package fastcgi

import (
	"strings"

	"github.com/uringnet/uringnet/cgi"
	"github.com/uringnet/uringnet/http"
	"github.com/uringnet/uringnet/netserver"
)

// Script names the script a request runs: its file (SCRIPT_FILENAME), its
// URL path (SCRIPT_NAME), the rest of the path (PATH_INFO, may be "") and
// the document root (DOCUMENT_ROOT, may be "").
type Script struct {
	Filename, Name, PathInfo, DocumentRoot string
	// TLS sets HTTPS=on.
	TLS bool
	// Extra are more parameters, "NAME=value" each.
	Extra []string
}

// Params returns the CGI/1.1 environment of req (RFC 3875 §4.1, package
// cgi's Env) as FCGI_PARAMS, with SCRIPT_FILENAME: what Serve sends. ns
// gives the addresses of hc. Call it on hc's loop, from HTTPRead; the
// result does not reference req.
func Params(req *http.Request, hc netserver.ClientNum, ns *netserver.Server, sc Script) []Param {
	ep := cgi.EnvParams{Local: ns.Addr(), ScriptName: sc.Name, PathInfo: sc.PathInfo,
		ScriptFilename: sc.Filename, DocumentRoot: sc.DocumentRoot, TLS: sc.TLS, Extra: sc.Extra}
	if a, err := ns.RemoteAddr(hc); err == nil {
		ep.Remote = a
	}
	if sc.PathInfo != "" && sc.DocumentRoot != "" {
		ep.PathTranslated = strings.TrimSuffix(sc.DocumentRoot, "/") + sc.PathInfo
	}
	env := cgi.Env(req, ep)
	p := make([]Param, 0, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		p = append(p, Param{k, v})
	}
	return p
}
