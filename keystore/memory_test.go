package keystore_test

import (
	"testing"

	"github.com/notary-go/notary/keystore"
	"github.com/notary-go/notary/keystore/keystoretest"
)

func TestMemoryConformance(t *testing.T) {
	keystoretest.Run(t, func(t *testing.T) keystore.Service { return keystore.NewMemory() })
}
