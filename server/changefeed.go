package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/notary-go/notary/api"
	"github.com/notary-go/notary/storage"
)

// defaultPageSize is the page size for records=0 (v1 DefaultPageSize).
const defaultPageSize = 100

// MaxChangefeedPage caps |records|: v1 took any int32, so one request
// could ask the database for 2^31-1 rows and the server to hold and
// encode them all (issue 10). A larger request gets a full page of this
// size; clients page on with change_id as they must anyway.
const MaxChangefeedPage = 10000

type changefeedResponse struct {
	Count   int              `json:"count"`
	Records []storage.Change `json:"records"`
}

// changefeed answers GET /v2/_trust/changefeed and
// /v2/{gun}/_trust/changefeed (§5.5): records is mandatory (an int32; 0
// means 100, negative pages backwards), change_id optional; records come
// oldest first, with IDs as strings.
func (s *Server) changefeed(ctx context.Context, w http.ResponseWriter, r *http.Request, gun string) error {
	q := r.URL.Query()
	n, err := strconv.ParseInt(q.Get("records"), 10, 32)
	if err != nil {
		return api.NewError(api.CodeInvalidParams, fmt.Sprintf("invalid records parameter: %v", err))
	}
	switch {
	case n == 0:
		n = defaultPageSize
	case n > MaxChangefeedPage:
		n = MaxChangefeedPage
	case n < -MaxChangefeedPage:
		n = -MaxChangefeedPage
	}
	changes := []storage.Change{}
	if gun == "" || readableGUN(gun) {
		changes, err = s.store.GetChanges(ctx, q.Get("change_id"), int(n), gun)
		if errors.Is(err, storage.ErrInvalidArgument) {
			return api.NewError(api.CodeInvalidParams, api.EmptyDetail)
		}
		if err != nil {
			return err
		}
	}
	out, err := json.Marshal(changefeedResponse{Count: len(changes), Records: changes})
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}
