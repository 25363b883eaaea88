package http

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxErrorPageBytes bounds a page file given to ErrorPages.Load.
const maxErrorPageBytes = 1 << 20

const htmlType = "text/html; charset=utf-8"

// builtinPages holds the default page of every 4xx and 5xx status that
// StatusText knows. It is built once and never modified.
var builtinPages = func() map[int][]byte {
	m := make(map[int][]byte)
	for code := 400; code < 600; code++ {
		if StatusText(code) != "" {
			m[code] = builtinPage(code)
		}
	}
	return m
}()

func builtinPage(code int) []byte {
	title := strconv.Itoa(code) + " " + StatusText(code)
	return []byte("<!DOCTYPE html>\n<html><head><title>" + title +
		"</title></head>\n<body><h1>" + title + "</h1></body></html>\n")
}

// errorPage is a replacement page set for one status.
type errorPage struct {
	body        []byte
	contentType string
}

// ErrorPages maps error statuses to the small pages sent with them. Every
// status has a built-in HTML page; Set and Load replace the page of one
// status. A nil *ErrorPages gives the built-in pages. Configure it before
// serving: it is not safe to modify while other goroutines read it.
type ErrorPages struct {
	pages map[int]errorPage
}

// Set replaces the page of code with a copy of body, sent with contentType
// ("text/html; charset=utf-8" if empty).
func (p *ErrorPages) Set(code int, body []byte, contentType string) {
	if contentType == "" {
		contentType = htmlType
	}
	if p.pages == nil {
		p.pages = make(map[int]errorPage)
	}
	p.pages[code] = errorPage{body: append([]byte(nil), body...), contentType: contentType}
}

// Load replaces the page of code with the contents of the file at path, as
// the error_page directive of a server configuration does. The content type
// follows the file extension (.html, .htm, .txt, .json; HTML otherwise).
// Files over 1 MiB are refused.
func (p *ErrorPages) Load(code int, path string) error {
	if code < 100 || code > 999 {
		return fmt.Errorf("http: error page for status %d: invalid status code", code)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("http: error page for status %d: %w", code, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("http: error page for status %d: %s is not a regular file", code, path)
	}
	if fi.Size() > maxErrorPageBytes {
		return fmt.Errorf("http: error page for status %d: %s is larger than %d bytes", code, path, maxErrorPageBytes)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("http: error page for status %d: %w", code, err)
	}
	p.Set(code, body, pageType(path))
	return nil
}

func pageType(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".txt", ".text":
		return "text/plain; charset=utf-8"
	case ".json":
		return "application/json"
	}
	return htmlType
}

// Body returns the page and content type for code: the one set with Set or
// Load, else the built-in one. For a status without a built-in page (1xx,
// 2xx, 3xx, unknown codes) it returns a generic page naming the code. The
// returned slice must not be modified.
func (p *ErrorPages) Body(code int) (body []byte, contentType string) {
	if p != nil {
		if pg, ok := p.pages[code]; ok {
			return pg.body, pg.contentType
		}
	}
	if b, ok := builtinPages[code]; ok {
		return b, htmlType
	}
	return builtinPage(code), htmlType
}

// AppendResponse appends a complete error response for code to dst: the
// status line, Date from dc (if dc is non-nil), Content-Type,
// Content-Length, "Connection: close", and the page, which is left out when
// head is set (a response to HEAD). The server should close the connection
// once it is written.
func (p *ErrorPages) AppendResponse(dst []byte, code int, dc *DateCache, now time.Time, head bool) []byte {
	body, ctype := p.Body(code)
	dst = AppendStatusLine(dst, code)
	if dc != nil {
		dst = dc.Append(dst, now)
	}
	dst = AppendHeader(dst, "Content-Type", ctype)
	dst = AppendContentLength(dst, int64(len(body)))
	dst = append(dst, "Connection: close\r\n\r\n"...)
	if !head {
		dst = append(dst, body...)
	}
	return dst
}
