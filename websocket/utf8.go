package websocket

import "unicode/utf8"

// UTF8Validator checks UTF-8 text that arrives in pieces: a code point may
// be split between two reads or two fragments. It rejects a sequence at the
// first byte that no valid continuation could follow (overlong forms,
// surrogates, code points above U+10FFFF), which is what the Autobahn
// "fail fast" cases expect. The zero value is ready to use.
type UTF8Validator struct {
	state uint8
}

// DFA states. utf8Accept means "between code points"; utf8Reject is a sink.
const (
	utf8Accept uint8 = iota
	utf8Reject
	utf8Need1 // one continuation byte 80..BF
	utf8Need2 // two continuation bytes
	utf8Need3 // three continuation bytes
	utf8AfterE0
	utf8AfterED
	utf8AfterF0
	utf8AfterF4
	utf8States
)

// Byte classes.
const (
	clASCII   = iota // 00..7F
	clCont1          // 80..8F
	clCont2          // 90..9F
	clCont3          // A0..BF
	clInvalid        // C0, C1, F5..FF
	clLead2          // C2..DF
	clE0             // E0
	clLead3          // E1..EC, EE..EF
	clED             // ED
	clF0             // F0
	clLead4          // F1..F3
	clF4             // F4
	utf8Classes
)

// utf8Class maps a byte to its class. It is computed once and never written
// again.
var utf8Class = func() (t [256]uint8) {
	for i := range t {
		b := byte(i)
		switch {
		case b < 0x80:
			t[i] = clASCII
		case b < 0x90:
			t[i] = clCont1
		case b < 0xA0:
			t[i] = clCont2
		case b < 0xC0:
			t[i] = clCont3
		case b < 0xC2:
			t[i] = clInvalid
		case b < 0xE0:
			t[i] = clLead2
		case b == 0xE0:
			t[i] = clE0
		case b == 0xED:
			t[i] = clED
		case b < 0xF0:
			t[i] = clLead3
		case b == 0xF0:
			t[i] = clF0
		case b < 0xF4:
			t[i] = clLead4
		case b == 0xF4:
			t[i] = clF4
		default:
			t[i] = clInvalid
		}
	}
	return t
}()

// utf8Next is the transition table, indexed by state*utf8Classes+class.
// Every entry not listed is utf8Reject.
var utf8Next = func() (t [utf8States * utf8Classes]uint8) {
	for i := range t {
		t[i] = utf8Reject
	}
	set := func(s uint8, next uint8, classes ...int) {
		for _, c := range classes {
			t[int(s)*utf8Classes+c] = next
		}
	}
	set(utf8Accept, utf8Accept, clASCII)
	set(utf8Accept, utf8Need1, clLead2)
	set(utf8Accept, utf8AfterE0, clE0)
	set(utf8Accept, utf8Need2, clLead3)
	set(utf8Accept, utf8AfterED, clED)
	set(utf8Accept, utf8AfterF0, clF0)
	set(utf8Accept, utf8Need3, clLead4)
	set(utf8Accept, utf8AfterF4, clF4)
	set(utf8Need1, utf8Accept, clCont1, clCont2, clCont3)
	set(utf8Need2, utf8Need1, clCont1, clCont2, clCont3)
	set(utf8Need3, utf8Need2, clCont1, clCont2, clCont3)
	set(utf8AfterE0, utf8Need1, clCont3)          // E0 A0..BF: no overlongs
	set(utf8AfterED, utf8Need1, clCont1, clCont2) // ED 80..9F: no surrogates
	set(utf8AfterF0, utf8Need2, clCont2, clCont3) // F0 90..BF: no overlongs
	set(utf8AfterF4, utf8Need2, clCont1)          // F4 80..8F: <= U+10FFFF
	return t
}()

// Write feeds p to the validator and reports whether the text seen so far
// is still a prefix of valid UTF-8. Once it returns false it keeps
// returning false until Reset.
//
// A code point left open by the previous Write is finished with the DFA,
// the complete code points that follow are checked at once by utf8.Valid,
// and an incomplete code point at the end of p goes through the DFA again,
// so that only bytes that no continuation could repair are rejected.
func (v *UTF8Validator) Write(p []byte) bool {
	s := v.state
	i := 0
	for s != utf8Accept && s != utf8Reject && i < len(p) {
		s = utf8Next[int(s)*utf8Classes+int(utf8Class[p[i]])]
		i++
	}
	if s == utf8Reject {
		v.state = s
		return false
	}
	// Cut off a trailing code point that is not complete yet.
	end := len(p)
	for k := 1; k <= utf8.UTFMax-1 && k <= len(p)-i; k++ {
		if c := p[len(p)-k]; utf8.RuneStart(c) {
			if c >= 0xC0 && !utf8.FullRune(p[len(p)-k:]) {
				end = len(p) - k
			}
			break
		}
	}
	if !utf8.Valid(p[i:end]) {
		v.state = utf8Reject
		return false
	}
	for _, c := range p[end:] {
		s = utf8Next[int(s)*utf8Classes+int(utf8Class[c])]
	}
	v.state = s
	return s != utf8Reject
}

// Valid reports whether the text seen so far is a prefix of valid UTF-8.
func (v *UTF8Validator) Valid() bool { return v.state != utf8Reject }

// Complete reports whether the text seen so far is valid UTF-8 that ends on
// a code point boundary, that is, whether it is valid as a whole message.
func (v *UTF8Validator) Complete() bool { return v.state == utf8Accept }

// Reset makes the validator ready for a new text.
func (v *UTF8Validator) Reset() { v.state = utf8Accept }

// validUTF8 reports whether p is valid UTF-8 as a whole. RFC 6455 and the
// standard library agree on what that means (no surrogates, no overlong
// forms, nothing above U+10FFFF), so the faster utf8.Valid does it.
func validUTF8(p []byte) bool { return utf8.Valid(p) }
