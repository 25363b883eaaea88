package ring

import (
	"fmt"
	"unsafe"
)

const probeOps = 256

type probeOp struct {
	Op    uint8
	Resv  uint8
	Flags uint16
	Resv2 uint32
}

type probeBuf struct {
	LastOp uint8
	OpsLen uint8
	Resv   uint16
	Resv2  [3]uint32
	Ops    [probeOps]probeOp
}

// Probe is the set of opcodes the running kernel supports.
type Probe struct {
	lastOp    uint8
	supported [probeOps]bool
}

// Probe asks the kernel which opcodes it supports (IORING_REGISTER_PROBE, 5.6).
func (r *Ring) Probe() (*Probe, error) {
	buf := new(probeBuf) // zeroed: the kernel rejects non-zero input
	if _, err := sysRegister(r.fd, registerProbe, unsafe.Pointer(buf), probeOps); err != nil {
		return nil, fmt.Errorf("ring: register probe: %w", err)
	}
	p := &Probe{lastOp: buf.LastOp}
	for i := 0; i < int(buf.OpsLen) && i < probeOps; i++ {
		if buf.Ops[i].Flags&1 != 0 {
			p.supported[buf.Ops[i].Op] = true
		}
	}
	return p, nil
}

// Supported reports whether the kernel supports opcode op.
func (p *Probe) Supported(op uint8) bool { return p.supported[op] }

// LastOp returns the highest opcode the kernel knows.
func (p *Probe) LastOp() uint8 { return p.lastOp }

// MultishotAccept reports whether the kernel has multishot accept (5.19).
// There is no direct probe for an ioprio flag; IORING_OP_SOCKET arrived in
// the same release, so its presence stands in for it.
func (p *Probe) MultishotAccept() bool { return p.supported[OpSocket] }

// MultishotRecv reports whether the kernel has multishot recv (6.0), judged
// by IORING_OP_SEND_ZC, which arrived in the same release.
func (p *Probe) MultishotRecv() bool { return p.supported[OpSendZC] }
