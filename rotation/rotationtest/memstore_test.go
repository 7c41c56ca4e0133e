package rotationtest

import (
	"testing"

	"github.com/keyturn/keyturn/rotation"
)

func TestMemStoreContract(t *testing.T) {
	StoreContract(t, func(*testing.T) rotation.Store { return NewMemStore() })
}
