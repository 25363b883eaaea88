package netserver

import "fmt"

// ClientNum identifies a client (a connection, an adopted fd or an event)
// for as long as it is open: loop index in bits 56-63, slot in bits 32-55,
// generation in bits 0-31. The zero ClientNum is never a client.
type ClientNum uint64

func makeClientNum(loop, slot int, gen uint32) ClientNum {
	return ClientNum(uint64(loop)<<56 | uint64(slot)<<32 | uint64(gen))
}

// Loop returns the index of the loop the client belongs to.
func (c ClientNum) Loop() int { return int(c >> 56) }

// Slot returns the client's slot in its loop's client table.
func (c ClientNum) Slot() int { return int(c>>32) & (1<<24 - 1) }

// Gen returns the client's generation.
func (c ClientNum) Gen() uint32 { return uint32(c) }

// String formats the client number as loop/slot/generation.
func (c ClientNum) String() string {
	return fmt.Sprintf("%d/%d/%d", c.Loop(), c.Slot(), c.Gen())
}
