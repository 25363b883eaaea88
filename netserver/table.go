package netserver

// Table holds per-client state for a layer above netserver (the HTTP
// connection of a client, its WebSocket state): one slice per loop, indexed
// by the client's slot, each entry checked against the client number's
// generation, so a stale ClientNum never finds the state of the client that
// reused its slot. Each loop's part is touched only by that loop (from
// callbacks, ticks, RunOnLoop), so the table takes no locks.
type Table[T any] struct {
	loops []tablePart[T]
	// Reset, when set, prepares a reused value for New instead of zeroing
	// it, so that a layer can keep the buffers a value owns.
	Reset func(*T)
}

type tablePart[T any] struct {
	entries []tableEntry[T]
	spare   []*T // freed values, for reuse
}

type tableEntry[T any] struct {
	c ClientNum
	v *T
}

// NewTable returns a table for the clients of s's loops.
func NewTable[T any](s *Server) *Table[T] {
	return &Table[T]{loops: make([]tablePart[T], s.Loops())}
}

// Get returns c's value, or nil when c has none (or is stale).
func (t *Table[T]) Get(c ClientNum) *T {
	if c.Loop() >= len(t.loops) {
		return nil
	}
	p := &t.loops[c.Loop()]
	if i := c.Slot(); i < len(p.entries) && p.entries[i].c == c {
		return p.entries[i].v
	}
	return nil
}

// New stores a zeroed value for c (reusing a freed one, prepared by Reset
// when set) and returns it.
func (t *Table[T]) New(c ClientNum) *T {
	p := &t.loops[c.Loop()]
	i := c.Slot()
	if i >= len(p.entries) {
		p.entries = append(p.entries, make([]tableEntry[T], i+1-len(p.entries))...)
	}
	var v *T
	if n := len(p.spare); n > 0 {
		v = p.spare[n-1]
		p.spare = p.spare[:n-1]
		if t.Reset != nil {
			t.Reset(v)
		} else {
			var zero T
			*v = zero
		}
	} else {
		v = new(T)
	}
	p.entries[i] = tableEntry[T]{c: c, v: v}
	return v
}

// Delete removes c's value and returns it (nil when c had none). The value
// is reused by a later New, so the caller must not keep it.
func (t *Table[T]) Delete(c ClientNum) *T {
	v := t.Get(c)
	if v == nil {
		return nil
	}
	p := &t.loops[c.Loop()]
	p.entries[c.Slot()] = tableEntry[T]{}
	if len(p.spare) < 1024 {
		p.spare = append(p.spare, v)
	}
	return v
}

// ForEach calls f for every client of loop that has a value; f may Delete
// the client it is given.
func (t *Table[T]) ForEach(loop int, f func(ClientNum, *T)) {
	p := &t.loops[loop]
	for i := range p.entries {
		if e := p.entries[i]; e.v != nil {
			f(e.c, e.v)
		}
	}
}
