package harness

import (
	"maps"
	"strings"
	"testing"
)

func TestParseKV(t *testing.T) {
	tests := []struct {
		line, tag string
		want      KV
		err       string
	}{
		{"stats accepted=64 closed=64 enters=45", "stats", KV{"accepted": "64", "closed": "64", "enters": "45"}, ""},
		{"stats", "stats", KV{}, ""},
		{"  stats\taccepted=1   x=  ", "stats", KV{"accepted": "1", "x": ""}, ""},
		{"a=1 b=2", "", KV{"a": "1", "b": "2"}, ""},
		{"a=b=c", "", KV{"a": "b=c"}, ""},
		{"result a=1", "stats", nil, "want a line starting with"},
		{"", "stats", nil, "want a line starting with"},
		{"stats accepted", "stats", nil, "not key=value"},
		{"stats =1", "stats", nil, "not key=value"},
		{"stats a=1 a=2", "stats", nil, "repeated"},
	}
	for _, tt := range tests {
		got, err := ParseKV(tt.line, tt.tag)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseKV(%q, %q) error = %v, want %q", tt.line, tt.tag, err, tt.err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("ParseKV(%q, %q) = %v, %v; want %v", tt.line, tt.tag, got, err, tt.want)
		}
	}
}

func TestKVNumbers(t *testing.T) {
	kv := KV{"n": "42", "f": "2.5", "bad": "x"}
	if n, err := kv.Int("n"); n != 42 || err != nil {
		t.Errorf("Int(n) = %d, %v", n, err)
	}
	if f, err := kv.Float("f"); f != 2.5 || err != nil {
		t.Errorf("Float(f) = %v, %v", f, err)
	}
	for _, key := range []string{"bad", "missing", "f"} {
		if _, err := kv.Int(key); err == nil {
			t.Errorf("Int(%q) succeeded", key)
		}
	}
	for _, key := range []string{"bad", "missing"} {
		if _, err := kv.Float(key); err == nil {
			t.Errorf("Float(%q) succeeded", key)
		}
	}
}

func FuzzParseKV(f *testing.F) {
	f.Add("stats conns_open=0 accepted=64 closed=64 tasks_inflight=0 sqes=123 enters=45", "stats")
	f.Add("result msgs=1 p99_us=3.5", "result")
	f.Add("a==", "")
	f.Fuzz(func(t *testing.T, line, tag string) {
		kv, err := ParseKV(line, tag)
		if err != nil {
			return
		}
		for k, v := range kv {
			if k == "" || strings.ContainsAny(k, " \t\n=") || strings.ContainsAny(v, " \t\n") {
				t.Fatalf("ParseKV(%q) gave field %q=%q", line, k, v)
			}
		}
		// Printing the fields back and parsing again gives the same map.
		var b strings.Builder
		b.WriteString("t")
		for k, v := range kv {
			b.WriteString(" " + k + "=" + v)
		}
		again, err := ParseKV(b.String(), "t")
		if err != nil || !maps.Equal(kv, again) {
			t.Fatalf("round trip of %q: %v, %v", line, again, err)
		}
	})
}
