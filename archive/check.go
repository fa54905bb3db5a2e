package archive

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/notary-go/notary/trustpin"
	"github.com/notary-go/notary/update"
)

// CheckCollection runs the TUF update workflow (package update) over the
// archived copy of collection g in dir, as a reader with an empty cache
// would, verifying as of now: the archived root is trusted on first use
// (or checked against pin), then every file is verified as from a server.
// Pass the archive's time (or an earlier one) as now to check an archive
// whose timestamp has since expired.
func CheckCollection(ctx context.Context, dir, g string, now time.Time, pin *trustpin.Checker) (*update.Verified, error) {
	root, err := os.OpenRoot(filepath.Join(dir, filepath.FromSlash(TreePath(g, ""))))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	u, err := update.NewUpdater(update.Options{GUN: g, Remote: update.DirRemote(root.FS()), Cache: update.NewMemoryCache(), Pin: pin})
	if err != nil {
		return nil, err
	}
	return u.Update(ctx, now)
}
