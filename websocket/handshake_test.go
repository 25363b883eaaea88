package websocket

import (
	"errors"
	"strings"
	"testing"
)

const sampleKey = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 1.3

// TestAcceptKey uses the sample of RFC 6455 1.3. (The value
// "s3pPLMBiTxaQ9kQWGCzbKUKvhGU=" sometimes quoted for this key is wrong.)
func TestAcceptKey(t *testing.T) {
	if got, want := AcceptKey(sampleKey), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("AcceptKey = %q, want %q", got, want)
	}
	// Unusually long keys still work (the stack buffer is only a hint).
	long := strings.Repeat("k", 200)
	if got := AcceptKey(long); len(got) != 28 {
		t.Errorf("AcceptKey(long) = %q", got)
	}
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{sampleKey, true},
		{"AAAAAAAAAAAAAAAAAAAAAA==", true},
		{"", false},
		{"dGhlIHNhbXBsZSBub25jZQ", false},    // no padding
		{"dGhlIHNhbXBsZSBub25jZQ=", false},   // short padding
		{"dGhlIHNhbXBsZSBub25jZQ===", false}, // long
		{"dGhlIHNhbXBsZSBub25jZ*==", false},  // bad character
		{"dGhlIHNhbXBsZSBub25jZR==", false},  // non-zero trailing bits
		{"dGhlIHNhbXBsZSBub25jZWU=", false},  // 17 bytes
		{"aGVsbG8gd29ybGQgMTIzNDU2", false},  // 18 bytes
	}
	for _, tt := range tests {
		if got := ValidKey(tt.key); got != tt.want {
			t.Errorf("ValidKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func goodRequest() *UpgradeRequest {
	return &UpgradeRequest{
		Method: "GET", Major: 1, Minor: 1,
		Host:       "server.example.com",
		Upgrade:    "websocket",
		Connection: "Upgrade",
		Key:        sampleKey,
		Version:    "13",
		Origin:     "http://server.example.com",
		Protocol:   "chat, superchat",
	}
}

func TestCheckUpgrade(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(r *UpgradeRequest)
		opts   *UpgradeOptions
		status int
		want   UpgradeResult
	}{
		{"ok", nil, nil, 0, UpgradeResult{}},
		{"http 2.0", func(r *UpgradeRequest) { r.Major, r.Minor = 2, 0 }, nil, 0, UpgradeResult{}},
		{"token lists", func(r *UpgradeRequest) {
			r.Upgrade = "foo/1, WebSocket"
			r.Connection = "keep-alive,  UPGRADE "
		}, nil, 0, UpgradeResult{}},
		{"post", func(r *UpgradeRequest) { r.Method = "POST" }, nil, 400, UpgradeResult{}},
		{"http 1.0", func(r *UpgradeRequest) { r.Minor = 0 }, nil, 400, UpgradeResult{}},
		{"http 0.9", func(r *UpgradeRequest) { r.Major, r.Minor = 0, 9 }, nil, 400, UpgradeResult{}},
		{"no host", func(r *UpgradeRequest) { r.Host = "" }, nil, 400, UpgradeResult{}},
		{"no upgrade", func(r *UpgradeRequest) { r.Upgrade = "" }, nil, 400, UpgradeResult{}},
		{"upgrade h2c", func(r *UpgradeRequest) { r.Upgrade = "h2c" }, nil, 400, UpgradeResult{}},
		{"upgrade substring", func(r *UpgradeRequest) { r.Upgrade = "websockets" }, nil, 400, UpgradeResult{}},
		{"connection keep-alive", func(r *UpgradeRequest) { r.Connection = "keep-alive" }, nil, 400, UpgradeResult{}},
		{"version 8", func(r *UpgradeRequest) { r.Version = "8" }, nil, 426, UpgradeResult{}},
		{"no version", func(r *UpgradeRequest) { r.Version = "" }, nil, 426, UpgradeResult{}},
		{"bad key", func(r *UpgradeRequest) { r.Key = "short" }, nil, 400, UpgradeResult{}},
		{"no key", func(r *UpgradeRequest) { r.Key = "" }, nil, 400, UpgradeResult{}},
		{"two keys", func(r *UpgradeRequest) { r.Key = sampleKey + "," + sampleKey }, nil, 400, UpgradeResult{}},
		{"two keys, spaced", func(r *UpgradeRequest) { r.Key = sampleKey + ", x3JJHMbDL1EzLkh9GBhXDw==" }, nil, 400, UpgradeResult{}},
		{"cross origin", func(r *UpgradeRequest) { r.Origin = "http://evil.example" }, nil, 403, UpgradeResult{}},
		{"bad origin url", func(r *UpgradeRequest) { r.Origin = "http://%zz" }, nil, 403, UpgradeResult{}},
		{"no origin", func(r *UpgradeRequest) { r.Origin = "" }, nil, 0, UpgradeResult{}},
		{"origin hook", func(r *UpgradeRequest) { r.Origin = "http://evil.example" },
			&UpgradeOptions{CheckOrigin: func(o, h string) bool { return o == "http://evil.example" && h == "server.example.com" }}, 0, UpgradeResult{}},
		{"origin hook refuses", nil, &UpgradeOptions{CheckOrigin: func(string, string) bool { return false }}, 403, UpgradeResult{}},
		{"subprotocol server order", nil, &UpgradeOptions{Subprotocols: []string{"superchat", "chat"}}, 0, UpgradeResult{Subprotocol: "superchat"}},
		{"subprotocol second", nil, &UpgradeOptions{Subprotocols: []string{"v2", "chat"}}, 0, UpgradeResult{Subprotocol: "chat"}},
		{"subprotocol none", nil, &UpgradeOptions{Subprotocols: []string{"v2"}}, 0, UpgradeResult{}},
		{"subprotocol case", nil, &UpgradeOptions{Subprotocols: []string{"CHAT"}}, 0, UpgradeResult{}},
		{"deflate off", func(r *UpgradeRequest) { r.Extensions = "permessage-deflate" }, nil, 0, UpgradeResult{}},
		{"deflate on", func(r *UpgradeRequest) { r.Extensions = "permessage-deflate; client_max_window_bits" }, &UpgradeOptions{Compression: true}, 0,
			UpgradeResult{Deflate: &DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := goodRequest()
			if tt.edit != nil {
				tt.edit(r)
			}
			res, err := CheckUpgrade(r, tt.opts)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if res.Subprotocol != tt.want.Subprotocol || (res.Deflate == nil) != (tt.want.Deflate == nil) ||
					(res.Deflate != nil && *res.Deflate != *tt.want.Deflate) {
					t.Errorf("result %+v, want %+v", res, tt.want)
				}
				return
			}
			var he *HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("error %v, want a *HandshakeError", err)
			}
			if he.Status != tt.status {
				t.Errorf("status %d (%s), want %d", he.Status, he.Reason, tt.status)
			}
		})
	}
}

func TestAppendUpgradeResponse(t *testing.T) {
	got := string(AppendUpgradeResponse(nil, sampleKey, UpgradeResult{}))
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got = string(AppendUpgradeResponse(nil, sampleKey, UpgradeResult{
		Subprotocol: "chat",
		Deflate:     &DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true},
	}))
	want = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { AppendUpgradeResponse(buf, sampleKey, UpgradeResult{Subprotocol: "chat"}) }); n != 0 {
		t.Errorf("AppendUpgradeResponse allocates %v times", n)
	}
}

func TestHandshakeErrorResponse(t *testing.T) {
	tests := []struct {
		status       int
		line         string
		versionField bool
	}{
		{400, "HTTP/1.1 400 Bad Request\r\n", false},
		{403, "HTTP/1.1 403 Forbidden\r\n", false},
		{426, "HTTP/1.1 426 Upgrade Required\r\n", true},
		{500, "HTTP/1.1 500 Error\r\n", false},
	}
	for _, tt := range tests {
		e := &HandshakeError{Status: tt.status, Reason: "why"}
		got := string(e.AppendResponse(nil))
		if !strings.HasPrefix(got, tt.line) || !strings.HasSuffix(got, "\r\nContent-Length: 4\r\n\r\nwhy\n") {
			t.Errorf("%d: response %q", tt.status, got)
		}
		if strings.Contains(got, "Sec-WebSocket-Version: 13\r\n") != tt.versionField {
			t.Errorf("%d: Sec-WebSocket-Version present = %v", tt.status, !tt.versionField)
		}
		if !strings.Contains(e.Error(), "why") {
			t.Errorf("Error() = %q", e.Error())
		}
	}
}

func TestCutList(t *testing.T) {
	tests := []struct {
		in         string
		item, rest string
	}{
		{"a, b", "a", " b"},
		{"  a  ", "a", ""},
		{`x="1,2", y`, `x="1,2"`, " y"},
		{`x="a\",b", y`, `x="a\",b"`, " y"},
		{",", "", ""},
	}
	for _, tt := range tests {
		item, rest := cutList(tt.in)
		if item != tt.item || rest != tt.rest {
			t.Errorf("cutList(%q) = %q, %q; want %q, %q", tt.in, item, rest, tt.item, tt.rest)
		}
	}
}

func FuzzCheckUpgrade(f *testing.F) {
	f.Add("GET", "websocket", "Upgrade", sampleKey, "13", "http://a", "a", "chat, x", "permessage-deflate; client_max_window_bits")
	f.Add("GET", "WebSocket, h2c", "keep-alive, upgrade", "AAAAAAAAAAAAAAAAAAAAAA==", "13", "", "b:80", "", `permessage-deflate; client_max_window_bits="10", foo`)
	f.Fuzz(func(t *testing.T, method, upgrade, conn, key, version, origin, host, proto, ext string) {
		r := &UpgradeRequest{Method: method, Major: 1, Minor: 1, Host: host, Upgrade: upgrade, Connection: conn,
			Key: key, Version: version, Origin: origin, Protocol: proto, Extensions: ext}
		res, err := CheckUpgrade(r, &UpgradeOptions{Subprotocols: []string{"chat", "x"}, Compression: true})
		if err != nil {
			var he *HandshakeError
			if !errors.As(err, &he) || (he.Status != 400 && he.Status != 403 && he.Status != 426) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !ValidKey(strings.Trim(key, " \t")) || method != "GET" || strings.Trim(version, " \t") != "13" {
			t.Fatalf("accepted a bad request %+v", r)
		}
		if res.Subprotocol != "" && !hasTokenExact(proto, res.Subprotocol) {
			t.Fatalf("chose %q, not offered in %q", res.Subprotocol, proto)
		}
		resp := string(AppendUpgradeResponse(nil, key, res))
		if !strings.HasSuffix(resp, "\r\n\r\n") || strings.Count(resp, "\r\n\r\n") != 1 {
			t.Fatalf("malformed response %q", resp)
		}
	})
}
