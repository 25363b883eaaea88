package websocket

import "encoding/binary"

// Mask applies the WebSocket masking transform (RFC 6455 5.3) to b in
// place, which both masks and unmasks. pos is the position in the 4-byte
// key of b's first byte (0 at the start of a payload); Mask returns the key
// position of the byte after b, so a payload delivered in pieces can be
// masked piece by piece:
//
//	pos := 0
//	pos = Mask(key, part1, pos)
//	pos = Mask(key, part2, pos)
//
// The bulk of b is processed eight bytes at a time.
func Mask(key [4]byte, b []byte, pos int) int {
	pos &= 3
	if len(b) < 8 {
		for i := range b {
			b[i] ^= key[(pos+i)&3]
		}
		return (pos + len(b)) & 3
	}
	// Rotate the key so that its first byte applies to b[0], then widen it
	// to 64 bits.
	k32 := uint64(key[pos&3]) | uint64(key[(pos+1)&3])<<8 |
		uint64(key[(pos+2)&3])<<16 | uint64(key[(pos+3)&3])<<24
	k64 := k32 | k32<<32
	i := 0
	for ; len(b)-i >= 32; i += 32 {
		s := b[i : i+32 : i+32]
		binary.LittleEndian.PutUint64(s[0:], binary.LittleEndian.Uint64(s[0:])^k64)
		binary.LittleEndian.PutUint64(s[8:], binary.LittleEndian.Uint64(s[8:])^k64)
		binary.LittleEndian.PutUint64(s[16:], binary.LittleEndian.Uint64(s[16:])^k64)
		binary.LittleEndian.PutUint64(s[24:], binary.LittleEndian.Uint64(s[24:])^k64)
	}
	for ; len(b)-i >= 8; i += 8 {
		s := b[i : i+8 : i+8]
		binary.LittleEndian.PutUint64(s, binary.LittleEndian.Uint64(s)^k64)
	}
	// i is a multiple of 8, so the key is back at pos for the tail.
	for j := i; j < len(b); j++ {
		b[j] ^= key[(pos+j)&3]
	}
	return (pos + len(b)) & 3
}
