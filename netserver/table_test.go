package netserver

import "testing"

func TestTable(t *testing.T) {
	s, err := New(Config{Loops: 2, Logger: testLogger(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type state struct{ n int }
	tb := NewTable[state](s)
	a := makeClientNum(0, 5, 1)
	stale := makeClientNum(0, 5, 2)
	b := makeClientNum(1, 0, 1)
	tests := []struct {
		name string
		run  func() bool
	}{
		{"absent", func() bool { return tb.Get(a) == nil && tb.Delete(a) == nil }},
		{"new zeroed", func() bool { v := tb.New(a); v.n = 7; return tb.Get(a) == v }},
		{"stale generation", func() bool { return tb.Get(stale) == nil && tb.Delete(stale) == nil }},
		{"other loop", func() bool { tb.New(b).n = 1; return tb.Get(b).n == 1 && tb.Get(a).n == 7 }},
		{"out of range loop", func() bool { return tb.Get(makeClientNum(9, 0, 1)) == nil }},
		{"for each", func() bool {
			n := 0
			tb.ForEach(0, func(c ClientNum, v *state) { n += v.n })
			return n == 7
		}},
		{"delete then reuse zeroed", func() bool {
			old := tb.Delete(a)
			v := tb.New(stale)
			return tb.Get(a) == nil && v == old && v.n == 0 && tb.Get(stale) == v
		}},
	}
	for _, tt := range tests {
		if !tt.run() {
			t.Errorf("%s: failed", tt.name)
		}
	}
}
