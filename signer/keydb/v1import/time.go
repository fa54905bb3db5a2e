package v1import

import (
	"database/sql"
	"os"
	"time"

	"github.com/notary-go/notary/internal/v1db"
)

var lookupEnv = os.LookupEnv

// srcTime scans a nullable source time column. Upstream's columns have no
// zone: the wall clock the database returns is read in loc.
type srcTime struct {
	loc *time.Location
	t   sql.NullTime
}

func (s *srcTime) Scan(src any) error {
	t, valid, err := v1db.ParseTime(src, s.loc)
	if err != nil {
		return err
	}
	s.t = sql.NullTime{Time: t, Valid: valid}
	return nil
}
