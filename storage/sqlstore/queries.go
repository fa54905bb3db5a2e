package sqlstore

import "strings"

// queries holds the statements of one dialect, with its placeholders.
type queries struct {
	d Dialect

	maxVersion, insertFile, insertChange, deleteGUN string
	current, byVersion, byChecksum                  string
}

const fileColumns = "data, sha256, version, created_at, updated_at"

func newQueries(d Dialect) queries {
	return queries{
		d:            d,
		maxVersion:   d.rebind("SELECT MAX(version) FROM tuf_files WHERE gun = ? AND role = ?"),
		insertFile:   d.rebind("INSERT INTO tuf_files (created_at, updated_at, gun, role, version, data, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)"),
		insertChange: d.rebind("INSERT INTO changefeed (created_at, gun, version, sha256, category) VALUES (?, ?, ?, ?, ?)"),
		deleteGUN:    d.rebind("DELETE FROM tuf_files WHERE gun = ?"),
		current:      d.rebind("SELECT " + fileColumns + " FROM tuf_files WHERE gun = ? AND role = ? ORDER BY version DESC LIMIT 1"),
		byVersion:    d.rebind("SELECT " + fileColumns + " FROM tuf_files WHERE gun = ? AND role = ? AND version = ?"),
		// Several versions may hold identical bytes: the highest wins.
		byChecksum: d.rebind("SELECT " + fileColumns + " FROM tuf_files WHERE gun = ? AND role = ? AND sha256 = ? ORDER BY version DESC LIMIT 1"),
	}
}

// maxVersions builds a query for the highest stored version of n roles of
// one GUN, one column per role: arguments are gun, role pairs. Each scalar
// subquery is an index seek on (gun, role, version), like maxVersion, but
// all of them take one statement (one round trip).
func (q queries) maxVersions(n int) string {
	if n == 1 {
		return q.maxVersion
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(SELECT MAX(version) FROM tuf_files WHERE gun = ? AND role = ?)")
	}
	return q.d.rebind(b.String())
}

// changes builds the changefeed query for a page: filtered by gun when
// byGUN, bounded by id when bounded, newest first when reverse. Arguments
// follow in that order, then the limit.
func (q queries) changes(byGUN, bounded, reverse bool) string {
	var where []string
	if byGUN {
		where = append(where, "gun = ?")
	}
	order := "ASC"
	if reverse {
		order = "DESC"
		if bounded {
			where = append(where, "id < ?")
		}
	} else if bounded {
		where = append(where, "id > ?")
	}
	query := "SELECT id, created_at, gun, version, sha256, category FROM changefeed"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	return q.d.rebind(query + " ORDER BY id " + order + " LIMIT ?")
}
