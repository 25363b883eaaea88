package main

import (
	"fmt"
	"strconv"
)

// fastcgiParams are the parameters of Debian's /etc/nginx/fastcgi_params, written out so
// that the configuration stands alone.
const fastcgiParams = `
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_param DOCUMENT_URI $document_uri;
            fastcgi_param DOCUMENT_ROOT $document_root;
            fastcgi_param SERVER_PROTOCOL $server_protocol;
            fastcgi_param REQUEST_SCHEME $scheme;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param SERVER_SOFTWARE nginx/$nginx_version;
            fastcgi_param REMOTE_ADDR $remote_addr;
            fastcgi_param REMOTE_PORT $remote_port;
            fastcgi_param SERVER_ADDR $server_addr;
            fastcgi_param SERVER_PORT $server_port;
            fastcgi_param SERVER_NAME $server_name;`

// nginxConfig returns the configuration of nginx for the CGI benchmark: one worker in the
// foreground, no access log, listening on addr, with /cgi-bin/NAME run as cgiDir/NAME and
// any path ending in .cgi as the file under root, both through the FastCGI application on
// the Unix socket sock. keepConn keeps the FastCGI connections open (an upstream with
// keepalive and fastcgi_keep_conn on: for an application that serves many requests per
// connection, such as net/http/fcgi; fcgiwrap gets a connection per request, nginx's
// default). Every path nginx writes to is under dir.
func nginxConfig(dir, addr, root, cgiDir, sock string, keepConn bool) string {
	q := strconv.Quote
	upstream := "server unix:" + sock + ";"
	keep := ""
	if keepConn {
		upstream += "\n        keepalive 32;"
		keep = "\n            fastcgi_keep_conn on;"
	}
	return fmt.Sprintf(`# written by the uringnet cgibench harness
worker_processes 1;
daemon off;
pid %s;
error_log %s warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path %s;
    proxy_temp_path %s;
    fastcgi_temp_path %s;
    uwsgi_temp_path %s;
    scgi_temp_path %s;
    default_type application/octet-stream;
    upstream app {
        %s
    }
    server {
        listen %s;
        root %s;
        location ~ ^/cgi-bin/([A-Za-z0-9._-]+)$ {
            fastcgi_pass app;%s%s
            fastcgi_param SCRIPT_NAME $uri;
            fastcgi_param SCRIPT_FILENAME %s;
        }
        location ~ \.cgi$ {
            fastcgi_pass app;%s%s
            fastcgi_param SCRIPT_NAME $fastcgi_script_name;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        }
    }
}
`, q(dir+"/nginx.pid"), q(dir+"/error.log"),
		q(dir+"/client_body"), q(dir+"/proxy"), q(dir+"/fastcgi"), q(dir+"/uwsgi"), q(dir+"/scgi"),
		upstream, addr, q(root), keep, fastcgiParams, q(cgiDir+"/$1"), keep, fastcgiParams)
}
