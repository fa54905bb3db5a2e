package storage

import (
	"math"
	"strconv"
)

// A ChangeQuery is GetChanges' arguments reduced to what a backend executes,
// so every implementation pages identically (protocol §5.5).
type ChangeQuery struct {
	// Reverse selects the newest rows first; the implementation returns
	// them flipped to oldest→newest.
	Reverse bool
	// ID bounds the rows: ID > ID when !Reverse; ID < ID when Reverse and
	// ID > 0; no bound when Reverse and ID <= 0.
	ID int64
	// Limit is the maximum number of rows, >= 0.
	Limit int
}

// ParseChangeQuery interprets GetChanges' changeID and records as upstream's
// SQL store does. changeID must be "" or a decimal integer, else it returns
// an *InvalidArgumentError.
func ParseChangeQuery(changeID string, records int) (ChangeQuery, error) {
	var id int64
	if changeID != "" {
		var err error
		id, err = strconv.ParseInt(changeID, 10, 64)
		if err != nil {
			return ChangeQuery{}, &InvalidArgumentError{Arg: "changeID", Value: changeID, Want: "a decimal integer, or empty for the start of the feed"}
		}
	}
	q := ChangeQuery{ID: id, Reverse: id < 0, Limit: records}
	if records < 0 {
		q.Reverse = true
		if records == math.MinInt {
			q.Limit = math.MaxInt
		} else {
			q.Limit = -records
		}
	}
	return q, nil
}

// Match reports whether a row with the given ID lies within q's bound.
func (q ChangeQuery) Match(id int64) bool {
	if q.Reverse {
		return q.ID <= 0 || id < q.ID
	}
	return id > q.ID
}
