package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/notary-go/notary/storage"
)

// GetChanges implements storage.MetaStore (an index range scan on id, or on
// (gun, id) for one GUN).
func (s *Store) GetChanges(ctx context.Context, changeID string, records int, gun string) (_ []storage.Change, err error) {
	defer wrapBackend("GetChanges", &err)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := storage.ParseChangeQuery(changeID, records)
	if err != nil {
		return nil, err
	}
	out := []storage.Change{}
	if q.Limit == 0 || (gun != "" && !storage.ValidName(gun)) {
		return out, nil // nothing asked for, or a GUN that cannot be stored
	}
	bounded := !q.Reverse || q.ID > 0
	var args []any
	if gun != "" {
		args = append(args, gun)
	}
	if bounded {
		args = append(args, q.ID)
	}
	args = append(args, int64(q.Limit))
	rows, err := s.db.QueryContext(ctx, s.q.changes(gun != "", bounded, q.Reverse), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading the changefeed: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c   storage.Change
			id  int64
			sum sql.NullString
		)
		if err := rows.Scan(&id, timeDest{&c.CreatedAt}, &c.GUN, &c.Version, &sum, &c.Category); err != nil {
			return nil, fmt.Errorf("sqlstore: reading the changefeed: %w", err)
		}
		c.ID = strconv.FormatInt(id, 10)
		c.SHA256 = strings.TrimSpace(sum.String)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: reading the changefeed: %w", err)
	}
	if q.Reverse {
		slices.Reverse(out) // newest first from the query; oldest first out
	}
	return out, nil
}
