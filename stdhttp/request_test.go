package stdhttp

import (
	"net/url"
	"reflect"
	"testing"

	uhttp "github.com/uringnet/uringnet/http"
)

// targetURL gives what url.ParseRequestURI gives, fast path or not.
func TestTargetURL(t *testing.T) {
	for _, target := range []string{
		"/", "/a/b", "/a?x=1&y=2", "/a?", "/%2e%2e/x", "/a%20b?q=%41", "/a/b/?x",
		"http://host:8080/p?q", "*",
	} {
		var req uhttp.Request
		lim := uhttp.Limits{}
		in := "GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n"
		if target == "*" {
			in = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"
		}
		if _, err := uhttp.Parse([]byte(in), &req, &lim); err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		got := targetURL(target, &req)
		want, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v, want %#v", target, got, want)
		}
	}
}
