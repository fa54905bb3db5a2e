package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/notary-go/notary/api"
)

func ExampleParsePath() {
	r := api.ParsePath("/v2/docker.io/library/alpine/_trust/tuf/targets/releases.json")
	fmt.Println(r.GUN, r.Role)
	r = api.ParsePath(api.MetaVersionPath("example.com/app", "root", 3))
	fmt.Println(r.Kind == api.RouteMetaVersion, r.Version)
	// Output:
	// docker.io/library/alpine targets/releases
	// true 3
}

func ExampleClient() {
	// A stand-in for notary-server: one stored timestamp, and a rejected
	// update.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "GET " + api.MetaPath("example.com/app", "timestamp"):
			fmt.Fprint(w, `{"signed":{},"signatures":[]}`)
		case "POST " + api.UpdatePath("example.com/app"):
			api.WriteError(w, api.NewError(api.CodeInvalidUpdate, &api.ValidationError{Name: api.ErrNameBadTargets, Msg: "valid signatures did not meet threshold for targets"}))
		default:
			api.WriteError(w, api.NewError(api.CodeMetadataNotFound, api.EmptyDetail))
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	c, err := api.NewClient(srv.URL, "example.com/app", api.ClientOptions{})
	if err != nil {
		panic(err)
	}
	ts, err := c.GetMeta(ctx, "timestamp", 0) // capped at tuf.MaxTimestampSize
	fmt.Println(string(ts), err)

	_, err = c.GetMetaByVersion(ctx, "root", 2, 0)
	fmt.Println(errors.Is(err, api.ErrNotFound))

	err = c.Publish(ctx, []api.Part{{Role: "targets", Data: []byte("...")}})
	var ve *api.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Name)
	fmt.Println(err)
	// Output:
	// {"signed":{},"signatures":[]} <nil>
	// true
	// true ErrBadTargets
	// The targets metadata is invalid: valid signatures did not meet threshold for targets
}
