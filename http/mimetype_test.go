package http

import "testing"

func TestContentType(t *testing.T) {
	tests := []struct{ name, want string }{
		{"index.html", "text/html; charset=utf-8"},
		{"/a/b/INDEX.HTM", "text/html; charset=utf-8"},
		{"style.css", "text/css; charset=utf-8"},
		{"app.js", "text/javascript; charset=utf-8"},
		{"mod.MJS", "text/javascript; charset=utf-8"},
		{"data.json", "application/json"},
		{"app.js.map", "application/json"},
		{"notes.txt", "text/plain; charset=utf-8"},
		{"README.md", "text/markdown; charset=utf-8"},
		{"feed.xml", "text/xml; charset=utf-8"},
		{"logo.svg", "image/svg+xml"},
		{"a.png", "image/png"},
		{"a.jpg", "image/jpeg"},
		{"a.JPEG", "image/jpeg"},
		{"a.gif", "image/gif"},
		{"a.webp", "image/webp"},
		{"favicon.ico", "image/vnd.microsoft.icon"},
		{"m.wasm", "application/wasm"},
		{"d.pdf", "application/pdf"},
		{"d.zip", "application/zip"},
		{"d.tar.gz", "application/gzip"},
		{"v.mp4", "video/mp4"},
		{"v.webm", "video/webm"},
		{"f.woff", "font/woff"},
		{"f.WOFF2", "font/woff2"},
		{"Makefile", DefaultContentType},
		{"noext.", DefaultContentType},
		{"a.unknown", DefaultContentType},
		{"a.verylongextension", DefaultContentType},
		{"dir.html/file", DefaultContentType},
		{"", DefaultContentType},
		{".html", "text/html; charset=utf-8"},
		{"a.h\x00tml", DefaultContentType},
	}
	for _, tt := range tests {
		if got := mimeType(tt.name); got != tt.want {
			t.Errorf("mimeType(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestContentTypeAllocs(t *testing.T) {
	name := "/static/Some.File.WOFF2"
	if n := testing.AllocsPerRun(100, func() { _ = mimeType(name) }); n != 0 {
		t.Fatalf("mimeType allocates %v times", n)
	}
}
