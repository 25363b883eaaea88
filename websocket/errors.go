package websocket

// ProtocolError reports a violation of RFC 6455 by the peer. Code is the
// close code to send in the close frame that fails the connection.
type ProtocolError struct {
	Code   CloseCode
	Reason string
}

// Error implements the error interface.
func (e *ProtocolError) Error() string {
	return "websocket: protocol error " + e.Code.String() + ": " + e.Reason
}

func protocolError(code CloseCode, reason string) *ProtocolError {
	return &ProtocolError{Code: code, Reason: reason}
}
