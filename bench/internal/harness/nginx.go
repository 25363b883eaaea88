package harness

import (
	"fmt"
	"strconv"
	"strings"
)

// NginxConfig returns an nginx configuration for the HTTP benchmark: one worker in the
// foreground, sendfile on, no access log, listening on addr, serving root, with /plaintext
// and /json answered by "return" like the other peers' handlers. Every path nginx writes to
// (pid, logs, temp directories) is under dir.
func NginxConfig(dir, addr, root string) string {
	return NginxConfigTLS(dir, addr, root, "", "")
}

// NginxTLSCiphersuite is the one TLS 1.3 cipher suite nginx offers with TLS: the one Go's
// servers pick when the CPU has AES instructions, so that every peer encrypts alike.
const NginxTLSCiphersuite = "TLS_AES_128_GCM_SHA256"

// NginxConfigTLS is NginxConfig listening with TLS when certFile and keyFile are set
// (plain HTTP otherwise): TLS 1.3 only, the cipher suite NginxTLSCiphersuite only, no
// session cache (tickets stay nginx's default, on: the benchmark's clients do not resume).
func NginxConfigTLS(dir, addr, root, certFile, keyFile string) string {
	return nginxConfig(dir, addr, root, certFile, keyFile, "")
}

// NginxConfigH2 is NginxConfig serving HTTP/2 in cleartext (h2c by prior knowledge; before
// 1.25.1 nginx takes no HTTP/1.1 on such a listener): with "http2 on;" when http2On (nginx from
// 1.25.1, see NginxHTTP2On), "listen ADDR http2;" otherwise (older nginx, Debian bookworm's
// 1.22.1 say).
func NginxConfigH2(dir, addr, root string, http2On bool) string {
	if http2On {
		return nginxConfig(dir, addr, root, "", "", "on")
	}
	return nginxConfig(dir, addr, root, "", "", "listen")
}

// NginxHTTP2On reports whether the nginx that printed version (nginx -v: "nginx version:
// nginx/1.22.1") takes the "http2 on;" directive, new in 1.25.1; ok is false when version
// names no version.
func NginxHTTP2On(version string) (on, ok bool) {
	_, v, found := strings.Cut(version, "nginx/")
	if !found {
		return false, false
	}
	v = strings.Fields(v + " ")[0]
	var nums [3]int
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false, false
	}
	for i, part := range parts {
		n, err := strconv.Atoi(part)
		if err != nil {
			return false, false
		}
		nums[i] = n
	}
	for i, least := range [3]int{1, 25, 1} {
		if nums[i] != least {
			return nums[i] > least, true
		}
	}
	return true, true
}

// nginxConfig is NginxConfigTLS with h2: "" for HTTP/1.1, "on" for "http2 on;", "listen"
// for "listen ADDR http2;".
func nginxConfig(dir, addr, root, certFile, keyFile, h2 string) string {
	q := func(s string) string { return strconv.Quote(s) }
	listen := addr
	var ssl string
	switch h2 {
	case "on":
		ssl = "\n        http2 on;"
	case "listen":
		listen += " http2"
	}
	if certFile != "" && keyFile != "" {
		listen += " ssl"
		ssl += fmt.Sprintf(`
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_protocols TLSv1.3;
        ssl_conf_command Ciphersuites %s;
        ssl_session_cache off;`, q(certFile), q(keyFile), NginxTLSCiphersuite)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# written by the uringnet httpbench harness
worker_processes 1;
daemon off;
pid %s;
error_log %s warn;
events {
    worker_connections 16384;
}
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;
    types {
        text/html html;
        text/plain txt;
        application/octet-stream bin;
    }
    default_type application/octet-stream;
    server {
        listen %s;
        root %s;%s
        location = /plaintext {
            default_type text/plain;
            return 200 "Hello, World!";
        }
        location = /json {
            default_type application/json;
            return 200 '{"message":"Hello, World!"}';
        }
    }
}
`, q(dir+"/nginx.pid"), q(dir+"/error.log"),
		q(dir+"/client_body"), q(dir+"/proxy"), q(dir+"/fastcgi"), q(dir+"/uwsgi"), q(dir+"/scgi"),
		listen, q(root), ssl)
	return b.String()
}

// NginxArgs returns nginx's arguments to run the configuration file conf with prefix dir.
func NginxArgs(dir, conf string) []string {
	return []string{"-p", dir, "-c", conf, "-e", dir + "/error.log"}
}
