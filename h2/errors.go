package h2

import (
	"errors"
	"fmt"

	"golang.org/x/net/http2"
)

// ConnError is a connection error (RFC 9113 §5.4.1): the Conn wrote
// GOAWAY with Code and accepts no more input.
type ConnError struct {
	Code   http2.ErrCode
	Reason string
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("h2: connection error %v: %s", e.Code, e.Reason)
}

// Errors returned by the Write methods.
var (
	// ErrStreamClosed: the stream does not exist, was reset, or its
	// sending side already ended.
	ErrStreamClosed = errors.New("h2: stream closed for writing")
	// ErrConnClosed: the connection failed or finished.
	ErrConnClosed = errors.New("h2: connection closed")

	errReentrantInput = errors.New("h2: Input called from an event")
)
