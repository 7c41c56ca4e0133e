package memory_test

import (
	"testing"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

func TestStoreContract(t *testing.T) {
	rotationtest.StoreContract(t, func(*testing.T) rotation.Store { return memory.NewStore() })
}

func TestApprovalStoreContract(t *testing.T) {
	rotationtest.ApprovalStoreContract(t, func(*testing.T) rotation.ApprovalStore { return memory.NewApprovalStore() })
}
