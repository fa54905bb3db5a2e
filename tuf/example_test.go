package tuf_test

import (
	"context"
	"fmt"
	"time"

	"github.com/notary-go/notary/keys"
	"github.com/notary-go/notary/tuf"
)

// Example signs a timestamp, then reads it back as a client does: parse,
// verify the threshold against root's keys, check expiry and hashes.
func Example() {
	k, _ := keys.Generate(keys.ED25519)
	root := &tuf.Root{Type: tuf.TypeRoot, Version: 1, Expires: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
		Keys: map[string]keys.PublicKey{k.ID(): k.Public()}, Roles: map[string]*tuf.RootRole{}}
	for _, r := range tuf.BaseRoles {
		root.Roles[r] = &tuf.RootRole{KeyIDs: []string{k.ID()}, Threshold: 1}
	}
	snapshotFile := []byte(`{"signed":...}`)
	meta, _ := tuf.NewFileMeta(snapshotFile)
	ts := &tuf.Timestamp{Type: tuf.TypeTimestamp, Version: 7, Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		Meta: map[string]tuf.FileMeta{tuf.RoleSnapshot: meta}}
	_, file, err := tuf.Sign(context.Background(), ts, tuf.LocalSigner(k))
	if err != nil {
		panic(err)
	}

	got, env, err := tuf.ParseTimestamp(file)
	if err != nil {
		panic(err)
	}
	rk, _ := root.RoleKeys(tuf.RoleTimestamp)
	now := time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)
	fmt.Println(rk.Verify(env), tuf.CheckExpiry(tuf.RoleTimestamp, got.Expires, now))
	fmt.Println(got.Meta[tuf.RoleSnapshot].Check(snapshotFile))
	fmt.Println(tuf.CheckExpiry(tuf.RoleTimestamp, got.Expires, now.AddDate(1, 0, 0)))
	// Output:
	// <nil> <nil>
	// <nil>
	// tuf: timestamp metadata expired at 2030-01-02T03:04:05Z (now 2030-06-01T00:00:00Z)
}
