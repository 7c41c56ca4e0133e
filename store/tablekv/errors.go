package tablekv

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/keyturn/keyturn/store/kv"
)

// ErrTableNotFound means the Azure table does not exist: call CreateTable
// (or deploy it) first.
var ErrTableNotFound = errors.New("azure table does not exist")

// ErrCorrupt means a stored entity cannot be read as a kv item: it has no
// binary "v" property, so something other than Keyturn wrote it.
var ErrCorrupt = errors.New("unreadable entity in azure table")

// errTableExists is CreateTable's benign conflict.
var errTableExists = errors.New("azure table already exists")

// translate is the one place service errors become kv's sentinels. It
// matches on the HTTP status and the service's error code, never on text:
//
//	404 TableNotFound                   ErrTableNotFound
//	404 (other: ResourceNotFound, ...)  kv.ErrNotFound
//	409 EntityAlreadyExists             kv.ErrExists
//	409 TableAlreadyExists              errTableExists
//	412 (UpdateConditionNotSatisfied)   kv.ErrConflict
//	400 PropertyValueTooLarge, EntityTooLarge,
//	    OutOfRangeInput, InvalidInput   kv.ErrInvalid
//	413 RequestBodyTooLarge             kv.ErrInvalid
//
// The result names the status and code but not the response body. Other
// errors (transport, context, other statuses) are returned wrapped as they
// are, with the *azcore.ResponseError still reachable through errors.As.
func translate(err error) error {
	var re *azcore.ResponseError
	if err == nil || !errors.As(err, &re) {
		return err
	}
	code := aztables.TableErrorCode(re.ErrorCode)
	var sentinel error
	switch re.StatusCode {
	case http.StatusNotFound:
		sentinel = kv.ErrNotFound
		if code == aztables.TableNotFound {
			sentinel = ErrTableNotFound
		}
	case http.StatusConflict:
		switch code {
		case aztables.EntityAlreadyExists:
			sentinel = kv.ErrExists
		case aztables.TableAlreadyExists:
			sentinel = errTableExists
		}
	case http.StatusPreconditionFailed:
		sentinel = kv.ErrConflict
	case http.StatusBadRequest:
		switch code {
		case aztables.PropertyValueTooLarge, aztables.EntityTooLarge, aztables.OutOfRangeInput,
			aztables.InvalidInput:
			sentinel = kv.ErrInvalid
		}
	case http.StatusRequestEntityTooLarge:
		sentinel = kv.ErrInvalid
	}
	if sentinel == nil {
		return fmt.Errorf("azure tables: %w", err)
	}
	return fmt.Errorf("%w (azure tables: HTTP %d %s)", sentinel, re.StatusCode, re.ErrorCode)
}
