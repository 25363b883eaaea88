package ring

// Opcodes (enum io_uring_op). Numbers follow the kernel UAPI header.
const (
	OpNop           uint8 = 0
	OpReadv         uint8 = 1
	OpWritev        uint8 = 2
	OpFsync         uint8 = 3
	OpPollAdd       uint8 = 6
	OpPollRemove    uint8 = 7
	OpSendmsg       uint8 = 9
	OpRecvmsg       uint8 = 10
	OpTimeout       uint8 = 11
	OpTimeoutRemove uint8 = 12
	OpAccept        uint8 = 13
	OpAsyncCancel   uint8 = 14
	OpLinkTimeout   uint8 = 15
	OpConnect       uint8 = 16
	OpOpenat        uint8 = 18
	OpClose         uint8 = 19
	OpStatx         uint8 = 21
	OpRead          uint8 = 22
	OpWrite         uint8 = 23
	OpSend          uint8 = 26
	OpRecv          uint8 = 27
	OpSplice        uint8 = 30
	OpProvideBufs   uint8 = 31
	OpRemoveBufs    uint8 = 32
	OpTee           uint8 = 33
	OpShutdown      uint8 = 34
	OpMsgRing       uint8 = 40
	OpSocket        uint8 = 45
	OpSendZC        uint8 = 47
	OpSendmsgZC     uint8 = 48
	OpReadMultishot uint8 = 49
	OpBind          uint8 = 56
	OpListen        uint8 = 57
)

// Setup flags (io_uring_params.flags).
const (
	SetupIOPoll       uint32 = 1 << 0
	SetupSQPoll       uint32 = 1 << 1
	SetupSQAff        uint32 = 1 << 2
	SetupCQSize       uint32 = 1 << 3
	SetupClamp        uint32 = 1 << 4
	SetupAttachWQ     uint32 = 1 << 5
	SetupRDisabled    uint32 = 1 << 6
	SetupSubmitAll    uint32 = 1 << 7
	SetupCoopTaskrun  uint32 = 1 << 8
	SetupTaskrunFlag  uint32 = 1 << 9
	SetupSQE128       uint32 = 1 << 10
	SetupCQE32        uint32 = 1 << 11
	SetupSingleIssuer uint32 = 1 << 12
	SetupDeferTaskrun uint32 = 1 << 13
	SetupNoMmap       uint32 = 1 << 14
	SetupRegisteredFD uint32 = 1 << 15
	SetupNoSQArray    uint32 = 1 << 16
)

// Feature bits (io_uring_params.features).
const (
	FeatSingleMmap     uint32 = 1 << 0
	FeatNoDrop         uint32 = 1 << 1
	FeatSubmitStable   uint32 = 1 << 2
	FeatRWCurPos       uint32 = 1 << 3
	FeatCurPersonality uint32 = 1 << 4
	FeatFastPoll       uint32 = 1 << 5
	FeatPoll32Bits     uint32 = 1 << 6
	FeatSQPollNonfixed uint32 = 1 << 7
	FeatExtArg         uint32 = 1 << 8
	FeatNativeWorkers  uint32 = 1 << 9
	FeatRsrcTags       uint32 = 1 << 10
	FeatCQESkip        uint32 = 1 << 11
	FeatLinkedFile     uint32 = 1 << 12
	FeatRegRegRing     uint32 = 1 << 13
	FeatRecvSendBundle uint32 = 1 << 14
	FeatMinTimeout     uint32 = 1 << 15
)

// SQE flags (io_uring_sqe.flags).
const (
	SQEFixedFile      uint8 = 1 << 0
	SQEIODrain        uint8 = 1 << 1
	SQEIOLink         uint8 = 1 << 2
	SQEIOHardlink     uint8 = 1 << 3
	SQEAsync          uint8 = 1 << 4
	SQEBufferSelect   uint8 = 1 << 5
	SQECQESkipSuccess uint8 = 1 << 6
)

// CQE flags (io_uring_cqe.flags).
const (
	CQEFBuffer       uint32 = 1 << 0
	CQEFMore         uint32 = 1 << 1
	CQEFSockNonempty uint32 = 1 << 2
	CQEFNotif        uint32 = 1 << 3
	// CQEBufferShift is how far the buffer id is shifted in CQE flags.
	CQEBufferShift = 16
)

// SQ ring flags (the kernel's sq.flags word).
const (
	SQNeedWakeup uint32 = 1 << 0
	SQCQOverflow uint32 = 1 << 1
	SQTaskrun    uint32 = 1 << 2
)

// io_uring_enter flags.
const (
	EnterGetEvents      uint32 = 1 << 0
	EnterSQWakeup       uint32 = 1 << 1
	EnterSQWait         uint32 = 1 << 2
	EnterExtArg         uint32 = 1 << 3
	EnterRegisteredRing uint32 = 1 << 4
)

// Operation-specific flags.
const (
	// AcceptMultishot goes in ioprio of an ACCEPT (5.19).
	AcceptMultishot uint16 = 1 << 0
	// RecvsendPollFirst goes in ioprio of a SEND/RECV.
	RecvsendPollFirst uint16 = 1 << 0
	// RecvMultishot goes in ioprio of a RECV (6.0).
	RecvMultishot uint16 = 1 << 1
	// TimeoutAbs makes a TIMEOUT absolute.
	TimeoutAbs uint32 = 1 << 0
	// TimeoutEtimeSuccess makes an expired timeout complete with res 0.
	TimeoutEtimeSuccess uint32 = 1 << 5
	// TimeoutMultishot makes a TIMEOUT repeat.
	TimeoutMultishot uint32 = 1 << 6
	// AsyncCancelAll cancels every request that matches.
	AsyncCancelAll uint32 = 1 << 0
	// AsyncCancelFD matches on the fd instead of user_data.
	AsyncCancelFD uint32 = 1 << 1
	// AsyncCancelAny matches any request.
	AsyncCancelAny uint32 = 1 << 2
	// PollAddMulti makes POLL_ADD multishot (in len).
	PollAddMulti uint32 = 1 << 0
	// SpliceFMove etc. are the splice(2) flags.
	SpliceFMove     uint32 = 1
	SpliceFNonblock uint32 = 2
	SpliceFMore     uint32 = 4
)

// io_uring_register opcodes used here.
const (
	registerProbe      = 8
	registerPbufRing   = 22
	unregisterPbufRing = 23
	registerRingFDs    = 20
)

// mmap offsets.
const (
	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)
