package sqlstore

import (
	"fmt"
	"time"
)

// A timeDest scans a time column into *t, in UTC, whatever the driver
// delivers: time.Time (pgx; MySQL with parseTime=true; modernc for DATETIME
// columns) or text (MySQL without parseTime; SQLite text that modernc did
// not parse). Text without a zone is taken as UTC.
type timeDest struct{ t *time.Time }

var timeLayouts = []string{
	sqliteTime,
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999 -0700 MST", // modernc's default, time.Time.String
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
		return nil
	case time.Time:
		*d.t = v.UTC()
		return nil
	case []byte:
		return d.parse(string(v))
	case string:
		return d.parse(v)
	}
	return fmt.Errorf("sqlstore: cannot read %T as a time", src)
}

func (d timeDest) parse(s string) error {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			*d.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("sqlstore: cannot read %q as a time", s)
}
