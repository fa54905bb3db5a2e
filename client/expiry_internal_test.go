package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/notary-go/notary/api"
)

func TestRoleExpiryFails(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const month = 30 * 24 * time.Hour
	for _, tc := range []struct {
		name    string
		by      string
		expires time.Time
		within  time.Duration
		want    bool
	}{
		{"publisher inside window", ResignerPublisher, now.Add(20 * 24 * time.Hour), month, true},
		{"publisher outside window", ResignerPublisher, now.Add(40 * 24 * time.Hour), month, false},
		{"publisher expired, no window", ResignerPublisher, now.Add(-time.Second), 0, true},
		{"publisher exactly at window end", ResignerPublisher, now.Add(month), month, false},
		{"server inside window is fine", ResignerServer, now.Add(time.Hour), month, false},
		{"server expired", ResignerServer, now.Add(-time.Second), month, true},
		{"server expiring now", ResignerServer, now, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := RoleExpiry{ResignedBy: tc.by, Expires: tc.expires}
			if got := e.Fails(now, tc.within); got != tc.want {
				t.Errorf("Fails = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRemoteGUNsPages: the changefeed is read page by page from the last
// ID seen, and deletions remove a GUN that was created earlier.
func TestRemoteGUNsPages(t *testing.T) {
	old := remoteGUNsPage
	remoteGUNsPage = 2
	t.Cleanup(func() { remoteGUNsPage = old })
	feed := []api.Change{
		{ID: "1", GUN: "a", Category: "update"},
		{ID: "2", GUN: "b", Category: "update"},
		{ID: "3", GUN: "c", Category: "update"},
		{ID: "4", GUN: "a", Category: "deletion"},
		{ID: "5", GUN: "d", Category: "update"},
	}
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != api.GlobalChangefeedPath {
			http.NotFound(w, r)
			return
		}
		from, _ := strconv.Atoi(r.URL.Query().Get("change_id"))
		n, _ := strconv.Atoi(r.URL.Query().Get("records"))
		asked = append(asked, fmt.Sprintf("%d+%d", from, n))
		var page []api.Change
		for _, c := range feed {
			if id, _ := strconv.Atoi(c.ID); id > from && len(page) < n {
				page = append(page, c)
			}
		}
		_ = json.NewEncoder(w).Encode(api.Changefeed{Count: len(page), Records: page})
	}))
	defer srv.Close()
	c, err := api.NewClient(srv.URL, "", api.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := RemoteGUNs(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("RemoteGUNs = %v, want %v", got, want)
	}
	if want := []string{"0+2", "2+2", "4+2"}; !slices.Equal(asked, want) {
		t.Errorf("pages asked %v, want %v", asked, want)
	}
}

// TestRemoteGUNsStuckFeed: a server that answers every page with the same
// full page is refused instead of being read forever.
func TestRemoteGUNsStuckFeed(t *testing.T) {
	old := remoteGUNsPage
	remoteGUNsPage = 1
	t.Cleanup(func() { remoteGUNsPage = old })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(api.Changefeed{Count: 1, Records: []api.Change{{ID: "0", GUN: "a", Category: "update"}}})
	}))
	defer srv.Close()
	c, err := api.NewClient(srv.URL, "", api.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RemoteGUNs(context.Background(), c); err == nil {
		t.Fatal("RemoteGUNs of a stuck changefeed succeeded")
	}
}
