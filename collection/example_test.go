package collection_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/notary-go/notary/changelist"
	"github.com/notary-go/notary/collection"
	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// Example initialises a repository whose snapshot the server manages,
// applies a staged changelist and signs the publish.
func Example() {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rootKey, _ := keys.Generate(keys.ECDSA)
	targetsKey, _ := keys.Generate(keys.ECDSA)
	serverSnapshot, _ := keys.Generate(keys.ED25519) // held by the server
	serverTimestamp, _ := keys.Generate(keys.ED25519)

	rootCert, _ := collection.RootCertificateKey(rootKey, "example.com/app", now)
	lookup := newMemKeys(rootKey, targetsKey) // the client backs this with its key store
	c, err := collection.Init(collection.InitOptions{
		GUN:       "example.com/app",
		RootKeys:  []keys.PublicKey{rootCert},
		Targets:   targetsKey.Public(),
		Snapshot:  serverSnapshot.Public(),
		Timestamp: serverTimestamp.Public(),
	}, lookup)
	if err != nil {
		panic(err)
	}

	staged := changelist.NewMemory()
	m, _ := tuf.NewFileMeta([]byte("hello\n"))
	add, _ := changelist.NewTarget("targets", "hello.txt", m)
	staged.Add(add)
	changes, _ := staged.List()
	if err := c.ApplyChanges(ctx, changes); err != nil {
		panic(err)
	}

	upload, err := c.Sign(ctx, now, collection.SignOptions{InitialPublish: true})
	if err != nil {
		panic(err)
	}
	for _, role := range slices.Sorted(mapKeys(upload)) {
		md, _, _ := tuf.ParseRole(role, upload[role])
		fmt.Println(role, "version", md.Common().Version, "expires", md.Common().Expires.Format(time.DateOnly))
	}
	// Output:
	// root version 1 expires 2035-12-31
	// targets version 1 expires 2029-01-01
}
