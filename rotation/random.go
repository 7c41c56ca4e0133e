package rotation

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// RandomHex returns n bytes from crypto/rand as 2n hexadecimal characters:
// Keyturn's one helper for request IDs, nonces, replica names and the
// stand-ins' simulated values. crypto/rand.Read does not fail (since Go 1.24
// it never returns an error and crashes the program if the system's
// generator does); should it ever return one, RandomHex panics rather than
// hand out a predictable value.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b)
}
