package ring

// SQE is a submission queue entry (struct io_uring_sqe, 64 bytes). Fields
// that are unions in C carry the name of their most common use; the Prep
// helpers fill them correctly for each opcode.
type SQE struct {
	Opcode      uint8
	Flags       uint8
	IoPrio      uint16
	Fd          int32
	Off         uint64 // off | addr2 | cmd_op; SPLICE: off_out
	Addr        uint64 // addr | splice_off_in
	Len         uint32
	OpFlags     uint32 // rw_flags | msg_flags | accept_flags | splice_flags | timeout_flags | ...
	UserData    uint64
	BufIndex    uint16 // buf_index | buf_group
	Personality uint16
	SpliceFdIn  int32 // splice_fd_in | file_index | addr_len
	Addr3       uint64
	_pad2       uint64
}

// CQE is a completion queue entry (struct io_uring_cqe, 16 bytes).
type CQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// More reports whether a multishot request stays armed after this CQE.
func (c *CQE) More() bool { return c.Flags&CQEFMore != 0 }

// BufferID returns the provided-buffer id of this CQE and whether it has one.
func (c *CQE) BufferID() (uint16, bool) {
	return uint16(c.Flags >> CQEBufferShift), c.Flags&CQEFBuffer != 0
}

type sqRingOffsets struct {
	Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1 uint32
	UserAddr                                                        uint64
}

type cqRingOffsets struct {
	Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1 uint32
	UserAddr                                                        uint64
}

// params is struct io_uring_params (120 bytes).
type params struct {
	SQEntries    uint32
	CQEntries    uint32
	Flags        uint32
	SQThreadCPU  uint32
	SQThreadIdle uint32
	Features     uint32
	WQFd         uint32
	Resv         [3]uint32
	SQOff        sqRingOffsets
	CQOff        cqRingOffsets
}

// getEventsArg is struct io_uring_getevents_arg.
type getEventsArg struct {
	Sigmask   uint64
	SigmaskSz uint32
	MinWait   uint32
	Ts        uint64
}

// Timespec is struct __kernel_timespec, as TIMEOUT and LINK_TIMEOUT read it.
// The kernel reads it at submission on kernels with FeatSubmitStable, but
// keep it alive until the CQE anyway.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// bufReg is struct io_uring_buf_reg.
type bufReg struct {
	RingAddr    uint64
	RingEntries uint32
	Bgid        uint16
	Flags       uint16
	Resv        [3]uint64
}
