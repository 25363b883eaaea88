package http

import (
	"testing"
	"time"
)

func TestETagMatch(t *testing.T) {
	tests := []struct {
		list, etag string
		weak, want bool
	}{
		{`*`, `"a"`, false, true},
		{` * `, `"a"`, true, true},
		{`"a"`, `"a"`, false, true},
		{`"a"`, `"b"`, false, false},
		{`"b", "a"`, `"a"`, false, true},
		{`"b" ,"a"`, `"a"`, true, true},
		{`"b",,  "a"  `, `"a"`, false, true},
		{`W/"a"`, `"a"`, false, false}, // strong comparison: weak tag never matches
		{`W/"a"`, `"a"`, true, true},   // weak comparison
		{`"a"`, `W/"a"`, false, false},
		{`"a"`, `W/"a"`, true, true},
		{`W/"a"`, `W/"a"`, true, true},
		{`W/"a"`, `W/"a"`, false, false},
		{`"a,b"`, `"a,b"`, false, true}, // comma inside an opaque tag
		{`"a,b"`, `"a"`, false, false},
		{`a`, `a`, false, false},         // unquoted
		{`"a`, `"a"`, false, false},      // unterminated
		{`"a" "b"`, `"b"`, false, false}, // missing comma
		{`"x", junk, "a"`, `"a"`, false, false},
		{`"a b"`, `"a b"`, false, false}, // space is not etagc
		{`""`, `""`, false, true},
		{`"a"`, ``, false, false},
		{`*`, ``, false, true},
		{``, `"a"`, false, false},
		{`w/"a"`, `"a"`, true, false}, // W must be upper case
		{"\"\x80\xff\"", "\"\x80\xff\"", false, true},
	}
	for _, tt := range tests {
		if got := etagMatch([]byte(tt.list), tt.etag, tt.weak); got != tt.want {
			t.Errorf("etagMatch(%q, %q, weak=%v) = %v, want %v", tt.list, tt.etag, tt.weak, got, tt.want)
		}
	}
}

func TestCheckPreconditions(t *testing.T) {
	mod := time.Date(2024, 3, 4, 5, 6, 7, 890, time.UTC)
	const etag = `"abc"`
	at := mod.Format(imfFixdate)
	before := mod.Add(-time.Second).Format(imfFixdate)
	after := mod.Add(time.Second).Format(imfFixdate)
	type h struct{ im, inm, ims, ius string }
	tests := []struct {
		name   string
		method string
		h      h
		mod    time.Time
		want   int
	}{
		{"no conditions", "GET", h{}, mod, 0},
		{"If-Match hit", "PUT", h{im: `"abc"`}, mod, 0},
		{"If-Match star", "DELETE", h{im: `*`}, mod, 0},
		{"If-Match miss", "GET", h{im: `"x"`}, mod, 412},
		{"If-Match weak never matches", "GET", h{im: `W/"abc"`}, mod, 412},
		{"If-Match wins over If-Unmodified-Since", "GET", h{im: `"abc"`, ius: before}, mod, 0},
		{"If-Unmodified-Since passes at same second", "GET", h{ius: at}, mod, 0},
		{"If-Unmodified-Since passes later", "POST", h{ius: after}, mod, 0},
		{"If-Unmodified-Since fails", "POST", h{ius: before}, mod, 412},
		{"If-Unmodified-Since invalid ignored", "POST", h{ius: "yesterday"}, mod, 0},
		{"If-Unmodified-Since no modtime", "POST", h{ius: before}, time.Time{}, 0},
		{"If-None-Match hit GET", "GET", h{inm: `"abc"`}, mod, 304},
		{"If-None-Match weak hit HEAD", "HEAD", h{inm: `W/"abc"`}, mod, 304},
		{"If-None-Match star GET", "GET", h{inm: `*`}, mod, 304},
		{"If-None-Match hit PUT", "PUT", h{inm: `"abc"`}, mod, 412},
		{"If-None-Match miss", "GET", h{inm: `"x", "y"`}, mod, 0},
		{"If-None-Match miss wins over If-Modified-Since", "GET", h{inm: `"x"`, ims: after}, mod, 0},
		{"If-None-Match hit beats If-Modified-Since", "GET", h{inm: `"abc"`, ims: before}, mod, 304},
		{"If-Modified-Since not modified", "GET", h{ims: at}, mod, 304},
		{"If-Modified-Since later", "GET", h{ims: after}, mod, 304},
		{"If-Modified-Since modified", "GET", h{ims: before}, mod, 0},
		{"If-Modified-Since on POST ignored", "POST", h{ims: after}, mod, 0},
		{"If-Modified-Since invalid", "GET", h{ims: "Mon, 32 Jan 2024 00:00:00 GMT"}, mod, 0},
		{"If-Modified-Since no modtime", "GET", h{ims: after}, time.Time{}, 0},
		{"If-Modified-Since RFC 850", "GET", h{ims: "Monday, 04-Mar-24 05:06:07 GMT"}, mod, 304},
		{"If-Modified-Since asctime", "GET", h{ims: "Mon Mar  4 05:06:07 2024"}, mod, 304},
		{"412 before 304", "GET", h{im: `"x"`, inm: `"abc"`}, mod, 412},
		{"If-Unmodified-Since fail before If-None-Match", "GET", h{ius: before, inm: `"abc"`}, mod, 412},
		{"whitespace-only If-Match is absent", "GET", h{im: "  "}, mod, 0},
	}
	for _, tt := range tests {
		got := checkPreconditions(tt.method, []byte(tt.h.im), []byte(tt.h.inm), []byte(tt.h.ims), []byte(tt.h.ius), etag, tt.mod)
		if got != tt.want {
			t.Errorf("%s: checkPreconditions = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestIfRangeApplies(t *testing.T) {
	mod := time.Date(2024, 3, 4, 5, 6, 7, 890, time.UTC)
	tests := []struct {
		ifRange, etag string
		mod           time.Time
		want          bool
	}{
		{"", `"abc"`, mod, true},
		{`"abc"`, `"abc"`, mod, true},
		{` "abc" `, `"abc"`, mod, true},
		{`"abd"`, `"abc"`, mod, false},
		{`W/"abc"`, `"abc"`, mod, false},
		{`"abc"`, `W/"abc"`, mod, false},
		{`"abc", "abd"`, `"abc"`, mod, false},
		{`"abc`, `"abc"`, mod, false},
		{`"abc"`, ``, mod, false},
		{"Mon, 04 Mar 2024 05:06:07 GMT", `"abc"`, mod, true},
		{"Mon, 04 Mar 2024 05:06:08 GMT", `"abc"`, mod, false},
		{"Mon, 04 Mar 2024 05:06:06 GMT", `"abc"`, mod, false},
		{"Mon, 04 Mar 2024 05:06:07 GMT", `"abc"`, time.Time{}, false},
		{"garbage", `"abc"`, mod, false},
	}
	for _, tt := range tests {
		if got := ifRangeApplies([]byte(tt.ifRange), tt.etag, tt.mod); got != tt.want {
			t.Errorf("ifRangeApplies(%q, %q, %v) = %v, want %v", tt.ifRange, tt.etag, tt.mod, got, tt.want)
		}
	}
}

func TestParseValidatorTime(t *testing.T) {
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	tests := []struct {
		in string
		ok bool
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", true},
		{"  Sun, 06 Nov 1994 08:49:37 GMT\t", true},
		{"sun, 06 NOV 1994 08:49:37 GMT", true},
		{"Sunday, 06-Nov-94 08:49:37 GMT", true},
		{"Sun Nov  6 08:49:37 1994", true},
		{"Sun, 06 Nov 1994 08:49:37 UTC", false},
		{"Sun, 06 Nov 1994 24:49:37 GMT", false},
		{"Sun, 06 Nov 1994 08:60:37 GMT", false},
		{"Sun, 06 Nov 1994 08:49:60 GMT", false},
		{"Sun, 31 Nov 1994 08:49:37 GMT", false},
		{"Sun, 00 Nov 1994 08:49:37 GMT", false},
		{"Xyz, 06 Nov 1994 08:49:37 GMT", false},
		{"Sun, 06 Xyz 1994 08:49:37 GMT", false},
		{"Sun, 06 Nov 19a4 08:49:37 GMT", false},
		{"Sun; 06 Nov 1994 08:49:37 GMT", false},
		{"Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", false},
		{"", false},
		{"1994-11-06T08:49:37Z", false},
	}
	for _, tt := range tests {
		got, ok := parseValidatorTime([]byte(tt.in))
		if ok != tt.ok || (ok && !got.Equal(want)) {
			t.Errorf("parseValidatorTime(%q) = %v, %v; want %v, %v", tt.in, got, ok, want, tt.ok)
		}
	}
	leap, ok := parseValidatorTime([]byte("Thu, 29 Feb 2024 00:00:00 GMT"))
	if !ok || leap.Day() != 29 {
		t.Errorf("leap day: %v %v", leap, ok)
	}
	if _, ok := parseValidatorTime([]byte("Thu, 29 Feb 2023 00:00:00 GMT")); ok {
		t.Error("29 Feb 2023 accepted")
	}
	b := []byte("Sun, 06 Nov 1994 08:49:37 GMT")
	if n := testing.AllocsPerRun(100, func() { parseValidatorTime(b) }); n != 0 {
		t.Errorf("IMF-fixdate parse allocates %v times", n)
	}
}

// FuzzParseValidatorTime checks the hand-written IMF-fixdate parser against
// time.Parse: whatever it accepts, time.Parse accepts with the same instant.
func FuzzParseValidatorTime(f *testing.F) {
	f.Add("Sun, 06 Nov 1994 08:49:37 GMT")
	f.Add("Thu, 29 Feb 2024 23:59:59 GMT")
	f.Add("Sunday, 06-Nov-94 08:49:37 GMT")
	f.Add("Sun Nov  6 08:49:37 1994")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseIMFFixdate([]byte(s))
		if !ok {
			return
		}
		ref, err := time.Parse(imfFixdate, s)
		if err != nil || !ref.Equal(got) {
			t.Fatalf("parseIMFFixdate(%q) = %v; time.Parse = %v, %v", s, got, ref, err)
		}
	})
}

// FuzzETagMatch checks that etagMatch never panics and that the weak
// comparison accepts everything the strong one does.
func FuzzETagMatch(f *testing.F) {
	f.Add([]byte(`"a", W/"b"`), `"b"`)
	f.Add([]byte(`*`), `W/"x"`)
	f.Add([]byte(`"a,b" ,, "c"`), `"c"`)
	f.Add([]byte(`W/"`), `"a"`)
	f.Fuzz(func(t *testing.T, list []byte, etag string) {
		strong := etagMatch(list, etag, false)
		weak := etagMatch(list, etag, true)
		if strong && !weak {
			t.Fatalf("etagMatch(%q, %q): strong match but no weak match", list, etag)
		}
		_ = ifRangeApplies(list, etag, time.Unix(0, 0))
	})
}
