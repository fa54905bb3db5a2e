package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"

	"github.com/notary-go/notary/tuf"
	"github.com/notary-go/notary/update"
)

// A File is one metadata file of a collection, named as the server names it
// under /v2/<gun>/_trust/tuf/ (delegations in subdirectories:
// "targets/releases.json").
type File struct {
	Name string
	Data []byte
}

// Collection is what to archive of one GUN: verified files and the role
// versions they hold.
type Collection struct {
	GUN      string
	Files    []File
	Versions map[string]int64
}

// FilesOf lists the files a reader of repo needs, as a notary server serves
// them: for root, timestamp, snapshot, targets and every verified
// delegation, <role>.json, <role>.<sha256>.json and <version>.<role>.json;
// <v>.root.json for every older root given (oldest first, version 1 up);
// and <role>.key for timestamp and snapshot, the public key a server
// answers with, taken from the verified root (only for a role with exactly
// one key, as a server holds one).
func FilesOf(gun string, repo *update.Verified, olderRoots [][]byte) (Collection, error) {
	c := Collection{GUN: gun, Versions: map[string]int64{}}
	roles := append([]string{tuf.RoleRoot, tuf.RoleTimestamp, tuf.RoleSnapshot}, repo.Roles()...)
	for _, role := range roles {
		data := repo.Bytes(role)
		if data == nil {
			continue
		}
		v, err := versionOf(role, repo)
		if err != nil {
			return Collection{}, err
		}
		sum := sha256.Sum256(data)
		c.Versions[role] = v
		c.Files = append(c.Files,
			File{Name: update.FileName(role, ""), Data: data},
			File{Name: update.FileName(role, hex.EncodeToString(sum[:])), Data: data},
			File{Name: versionedName(role, v), Data: data},
		)
	}
	for i, data := range olderRoots {
		c.Files = append(c.Files, File{Name: update.VersionedRootName(int64(i + 1)), Data: data})
	}
	for _, role := range []string{tuf.RoleTimestamp, tuf.RoleSnapshot} {
		rk, err := repo.Root.RoleKeys(role)
		if err != nil || len(rk.KeyIDs) != 1 {
			continue // a client-managed snapshot (no server key), or several keys
		}
		k := rk.Keys[rk.KeyIDs[0]]
		data, err := k.MarshalJSON()
		if err != nil {
			return Collection{}, err
		}
		c.Files = append(c.Files, File{Name: role + ".key", Data: data})
	}
	sort.Slice(c.Files, func(i, j int) bool { return c.Files[i].Name < c.Files[j].Name })
	return c, nil
}

func versionOf(role string, repo *update.Verified) (int64, error) {
	switch role {
	case tuf.RoleRoot:
		return repo.Root.Version, nil
	case tuf.RoleTimestamp:
		return repo.Timestamp.Version, nil
	case tuf.RoleSnapshot:
		return repo.Snapshot.Version, nil
	}
	t := repo.Targets(role)
	if t == nil {
		return 0, fmt.Errorf("archive: %s: role %s is listed but not loaded", repo.GUN, role)
	}
	return t.Version, nil
}

// versionedName is <version>.<role>.json as the server's route spells it,
// the role's slashes included: "3.targets/releases.json".
func versionedName(role string, v int64) string {
	return strconv.FormatInt(v, 10) + "." + role + ".json"
}
