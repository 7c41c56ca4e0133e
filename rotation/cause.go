package rotation

import (
	"errors"
	"fmt"
	"strings"
)

// Cause is why a request's rotation failed, kept with the request so that
// its card says it in words long after the error value is gone: the
// domain's error codes the error wrapped (by name), and, when Keyturn is
// not an owner of the app, the IDs of the command that fixes it. It holds
// no internal text (hosts, status codes, SDK messages), only codes and IDs.
type Cause struct {
	Codes    []string       `json:"codes"`
	NotOwner *NotOwnerError `json:"notOwner,omitempty"`
	// Message is what exactly was wrong, in words meant for people (an
	// *Error's Message, see ErrorMessage), if the error said so.
	Message string `json:"message,omitempty"`
}

// causeCodes names the domain's sentinel errors a failure may wrap. The
// names are stored: never rename one.
var causeCodes = []struct {
	name string
	err  error
}{
	{"incomplete", ErrIncomplete}, {"compensated", ErrCompensated}, {"ambiguous", ErrAmbiguous},
	{"verify-failed", ErrVerifyFailed}, {"not-yet-valid", ErrNotYetValid}, {"in-progress", ErrInProgress},
	{"audit-failed", ErrAuditFailed}, {"invalid", ErrInvalid}, {"app-not-found", ErrAppNotFound},
	{"not-owner", ErrNotOwner}, {"own-app", ErrOwnApp}, {"vault-not-allowed", ErrVaultNotAllowed},
	{"secret-name-not-allowed", ErrSecretNameNotAllowed}, {"vault-forbidden", ErrVaultForbidden},
	{"vault-unreachable", ErrVaultUnreachable}, {"not-found", ErrNotFound}, {"soft-deleted", ErrSoftDeleted},
	{"lifetime-policy", ErrLifetimePolicy}, {"passwords-forbidden", ErrPasswordsForbidden},
	{"throttled", ErrThrottled}, {"superseded", ErrSuperseded}, {"tampered", ErrTampered}, {"denied", ErrDenied},
}

// CauseOf records the codes err wraps, or nil for a nil error.
func CauseOf(err error) *Cause {
	if err == nil {
		return nil
	}
	c := &Cause{}
	for _, k := range causeCodes {
		if errors.Is(err, k.err) {
			c.Codes = append(c.Codes, k.name)
		}
	}
	var no *NotOwnerError
	if errors.As(err, &no) {
		c.NotOwner = &NotOwnerError{ClientID: no.ClientID, PrincipalID: no.PrincipalID}
	}
	c.Message = ErrorMessage(err)
	return c
}

// Err returns an error that wraps the codes c recorded (and the
// *NotOwnerError), for the one table that turns errors into words. A
// cause without codes is an unknown error.
func (c *Cause) Err() error {
	if c == nil {
		return nil
	}
	var errs []error
	if c.NotOwner != nil {
		errs = append(errs, c.NotOwner)
	}
	for _, name := range c.Codes {
		for _, k := range causeCodes {
			if k.name == name {
				errs = append(errs, k.err)
			}
		}
	}
	if len(errs) == 0 {
		return fmt.Errorf("unknown cause (%s)", strings.Join(c.Codes, ", "))
	}
	if c.Message != "" {
		errs = append([]error{&Error{Code: errs[len(errs)-1], Message: c.Message}}, errs...)
	}
	return errors.Join(errs...)
}
