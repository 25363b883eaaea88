package harness

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFindBackend(t *testing.T) {
	for js, want := range map[string]string{
		`{"backend":"epoll"}`:                       "epoll",
		`{"net":{"Backend":"io_uring"},"x":[1]}`:    "io_uring",
		`[{"a":1},{"loops":[{"backend":"uring"}]}]`: "uring",
		`{"backend":3}`:                             "",
		`{}`:                                        "",
		`"backend"`:                                 "",
	} {
		var v any
		if err := json.Unmarshal([]byte(js), &v); err != nil {
			t.Fatal(err)
		}
		if got := FindBackend(v); got != want {
			t.Errorf("FindBackend(%s) = %q, want %q", js, got, want)
		}
	}
}

func TestCheckBackend(t *testing.T) {
	body := `{"requests":1}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stats.json" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	for _, tc := range []struct {
		body, want string
		ok         bool
	}{
		{`{"requests":1}`, UringBackend, true}, // silent: left to FinalBackend
		{`{"requests":1}`, EpollBackend, true},
		{`{"requests":1}`, "", true},
		{`{"backend":"epoll"}`, EpollBackend, true},
		{`{"backend":"epoll"}`, UringBackend, false},
		{`{"backend":"io_uring"}`, UringBackend, true},
		{`{"backend":"io_uring"}`, EpollBackend, false},
		{`not json`, UringBackend, false},
	} {
		body = tc.body
		if err := CheckBackend(ctx, addr, tc.want, nil); (err == nil) != tc.ok {
			t.Errorf("%s, want %q: %v", tc.body, tc.want, err)
		}
	}
	srv.Close()
	if err := CheckBackend(ctx, addr, UringBackend, nil); err == nil {
		t.Error("closed server passed")
	}
}

func TestFinalBackend(t *testing.T) {
	for _, tc := range []struct {
		stats, want string
		ok          bool
	}{
		{"stats conns_open=0 requests=5", UringBackend, true}, // a demo from before the epoll backend
		{"stats conns_open=0 requests=5", EpollBackend, false},
		{"", EpollBackend, false},
		{"", "", true},
		{"stats backend=epoll conns_open=0", EpollBackend, true},
		{"stats backend=epoll conns_open=0", UringBackend, false},
		{"stats backend=io_uring conns_open=0", UringBackend, true},
		{"stats backend=io_uring conns_open=0", EpollBackend, false},
		{"stats accepted=3 requests=9", "", true}, // net/http
	} {
		if err := FinalBackend(tc.stats, tc.want); (err == nil) != tc.ok {
			t.Errorf("%q, want %q: %v", tc.stats, tc.want, err)
		}
	}
}
