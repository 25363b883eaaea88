package netserver

import "testing"

func TestOnLoopIndex(t *testing.T) {
	inside := make(chan [3]bool, 1)
	h := &echoHandler{}
	h.onRead = func(data []byte, c ClientNum) bool {
		s := h.s
		inside <- [3]bool{s.OnLoopIndex(c.Loop()), s.OnLoopIndex(1 - c.Loop()), s.OnLoop(c)}
		return true
	}
	s := startServer(t, Config{Loops: 2}, h)
	if s.OnLoopIndex(0) || s.OnLoopIndex(1) || s.OnLoopIndex(2) || s.OnLoopIndex(-1) {
		t.Fatal("the test goroutine reported as a loop")
	}
	c := dial(t, s)
	c.Write([]byte("x"))
	if got := <-inside; got != [3]bool{true, false, true} {
		t.Fatalf("inside a callback: own loop, other loop, OnLoop = %v", got)
	}
}
