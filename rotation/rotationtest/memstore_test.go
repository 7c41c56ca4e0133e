package rotationtest

import (
	"testing"

	"github.com/keyturn/keyturn/rotation"
)

func TestMemStoreContract(t *testing.T) {
	StoreContract(t, func(*testing.T) rotation.Store { return NewMemStore() })
}

func TestMemApprovalsContract(t *testing.T) {
	ApprovalStoreContract(t, func(*testing.T) rotation.ApprovalStore { return NewMemApprovals() })
}
