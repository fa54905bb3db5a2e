package update

import (
	"context"
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/notary-go/notary/tuf"
)

func TestDirRemoteRefusesNonRegularFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"timestamp.json": {Data: []byte("{}"), Mode: fs.ModeNamedPipe},
		"root.json":      {Mode: fs.ModeDir},
	}
	r := DirRemote(fsys)
	if _, err := r.GetMeta(context.Background(), "timestamp", "", tuf.MaxTimestampSize); err == nil {
		t.Fatal("a named pipe was read as timestamp.json")
	}
	if _, err := r.GetMeta(context.Background(), "root", "", tuf.MaxRootSize); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a directory named root.json: err = %v, want ErrNotFound", err)
	}
}
