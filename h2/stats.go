package h2

// Stats counts what a Conn saw and did. It is read on the Conn's loop with
// (*Conn).Stats; the flood counters are 0 or 1 per connection (the
// connection ends), summed by a server across its connections.
type Stats struct {
	Streams        uint64 // streams opened by the peer and delivered
	ResetsReceived uint64 // RST_STREAM frames from the peer on live streams
	ResetsSent     uint64 // RST_STREAM frames written
	GoAwaySent     uint64 // GOAWAY frames written
	ProtocolErrors uint64 // connection errors (but NO_ERROR and floods) and PROTOCOL_ERROR stream errors we sent

	RapidResets        uint64 // GOAWAY(ENHANCE_YOUR_CALM) for resets over ResetRate
	ContinuationFloods uint64 // header blocks over MaxHeaderBlock or MaxBlockFrames
	HeaderListTooLarge uint64 // requests answered 431
	HPACKErrors        uint64 // GOAWAY(COMPRESSION_ERROR)
	SettingsFloods     uint64 // GOAWAY(ENHANCE_YOUR_CALM) for SETTINGS over SettingsRate
	PingFloods         uint64 // GOAWAY(ENHANCE_YOUR_CALM) for PINGs over PingRate
	EmptyFrameFloods   uint64 // GOAWAY(ENHANCE_YOUR_CALM) for frames over EmptyFrameRate
	StallResets        uint64 // streams reset by Tick after StallTimeout without window
	RefusedStreams     uint64 // HEADERS refused over MaxConcurrentStreams
	FlowControlErrors  uint64 // DATA beyond a receive window, or a send window overflow
}
