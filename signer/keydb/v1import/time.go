package v1import

import (
	"database/sql"
	"fmt"
	"os"
	"time"
)

var lookupEnv = os.LookupEnv

// srcTime scans a nullable source time column. Upstream's columns have no
// zone: the wall clock the database returns is read in loc.
type srcTime struct {
	loc *time.Location
	t   sql.NullTime
}

var (
	zonedLayouts = []string{
		"2006-01-02 15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999 -0700 MST",
		time.RFC3339Nano,
	}
	wallLayouts = []string{
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999",
	}
)

func (s *srcTime) Scan(src any) error {
	loc := s.loc
	if loc == nil {
		loc = time.UTC
	}
	var str string
	switch v := src.(type) {
	case nil:
		s.t = sql.NullTime{}
		return nil
	case time.Time:
		if v.Location() != time.UTC {
			s.t = sql.NullTime{Time: v.UTC(), Valid: true}
		} else {
			s.t = sql.NullTime{Time: relabel(v, loc), Valid: true}
		}
		return nil
	case []byte:
		str = string(v)
	case string:
		str = v
	default:
		return fmt.Errorf("v1import: cannot read %T as a time", src)
	}
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, str); err == nil {
			s.t = sql.NullTime{Time: t.UTC(), Valid: true}
			return nil
		}
	}
	for _, layout := range wallLayouts {
		if t, err := time.Parse(layout, str); err == nil {
			s.t = sql.NullTime{Time: relabel(t, loc), Valid: true}
			return nil
		}
	}
	return fmt.Errorf("v1import: cannot read %q as a time", str)
}

// relabel reads t's wall clock in loc and returns that instant in UTC.
func relabel(t time.Time, loc *time.Location) time.Time {
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), loc).UTC()
}
