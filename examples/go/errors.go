package vpnroute

// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
)

// Error is a negative VPNR_ERR_* code returned by the library.  Compare
// with errors.Is against the Err* values (the code decides).
type Error struct {
	Code   int
	Detail string // the context's or builder's last error text, if any
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s (%d): %s", ErrName(e.Code), e.Code,
		C.GoString(C.vpnr_strerror(C.int(e.Code))))
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is matches any *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Fatal reports whether the error left the context unusable.
func (e *Error) Fatal() bool { return C.vpnr_err_is_fatal(C.int(e.Code)) != 0 }

// ErrName is the symbolic name of a code, e.g. "VPNR_ERR_NOT_FOUND".
func ErrName(code int) string { return C.GoString(C.vpnr_err_name(C.int(code))) }

// The library's error codes, for errors.Is.
var (
	ErrInvalidArgument = &Error{Code: C.VPNR_ERR_INVALID_ARGUMENT}
	ErrInvalidState    = &Error{Code: C.VPNR_ERR_INVALID_STATE}
	ErrNotFound        = &Error{Code: C.VPNR_ERR_NOT_FOUND}
	ErrExists          = &Error{Code: C.VPNR_ERR_EXISTS}
	ErrUnsupported     = &Error{Code: C.VPNR_ERR_UNSUPPORTED}
	ErrWouldBlock      = &Error{Code: C.VPNR_ERR_WOULDBLOCK}
	ErrInCallback      = &Error{Code: C.VPNR_ERR_IN_CALLBACK}
	ErrBufferTooSmall  = &Error{Code: C.VPNR_ERR_BUFFER_TOO_SMALL}
	ErrLimit           = &Error{Code: C.VPNR_ERR_LIMIT}
	ErrMalformed       = &Error{Code: C.VPNR_ERR_MALFORMED}
	ErrAuthFailed      = &Error{Code: C.VPNR_ERR_AUTH_FAILED}
	ErrNoProposal      = &Error{Code: C.VPNR_ERR_NO_PROPOSAL}
	ErrPeerClosed      = &Error{Code: C.VPNR_ERR_PEER_CLOSED}
	ErrTimeout         = &Error{Code: C.VPNR_ERR_TIMEOUT}
	ErrReplay          = &Error{Code: C.VPNR_ERR_REPLAY}
	ErrIntegrity       = &Error{Code: C.VPNR_ERR_INTEGRITY}
	ErrNotIKE          = &Error{Code: C.VPNR_ERR_NOT_IKE}
	ErrTunnelDown      = &Error{Code: C.VPNR_ERR_TUNNEL_DOWN}
	ErrDeadPeer        = &Error{Code: C.VPNR_ERR_DEAD_PEER}
	ErrLocalClose      = &Error{Code: C.VPNR_ERR_LOCAL_CLOSE}
	ErrDataplane       = &Error{Code: C.VPNR_ERR_DATAPLANE}
	ErrCrypto          = &Error{Code: C.VPNR_ERR_CRYPTO}
	ErrNoMem           = &Error{Code: C.VPNR_ERR_NOMEM}
	ErrCallbackFailure = &Error{Code: C.VPNR_ERR_CALLBACK_FAILURE}
	ErrInternal        = &Error{Code: C.VPNR_ERR_INTERNAL}

	// ErrAsync is returned by a Dataplane op that completes later
	// (Context.DPComplete); it is not an error.
	ErrAsync = errors.New("vpnroute: data-plane op completes later")
	// ErrClosed: the Context (or Esp) was closed.
	ErrClosed = errors.New("vpnroute: closed")
)

// CallbackError is what a Context method returns when a Go callback
// (Host, Dataplane, Esp route hook) returned an error or panicked
// during the call: Err is that error (errors.Is/As reach it), Code what
// the library returned.
type CallbackError struct {
	Err  error
	Code int
}

func (e *CallbackError) Error() string {
	return fmt.Sprintf("vpnroute callback failed (%s): %v", ErrName(e.Code), e.Err)
}

func (e *CallbackError) Unwrap() error { return e.Err }

// Is also matches the library code the call returned.
func (e *CallbackError) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// PanicError carries a panic recovered in a callback (a panic must not
// unwind through C frames).
type PanicError struct{ Value interface{} }

func (e *PanicError) Error() string { return fmt.Sprintf("panic in callback: %v", e.Value) }

// codeOf maps a callback's error to the code handed back to C.
func codeOf(err error) C.int {
	var e *Error
	if errors.As(err, &e) {
		return C.int(e.Code)
	}
	return C.VPNR_ERR_CALLBACK_FAILURE
}
