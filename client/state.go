package client

import (
	"context"

	"github.com/notary-go/notary/update"
)

// A State is a collection as one update verified it. Its lookups answer
// from that state, with no I/O, so many tags can be looked up against
// one verification (an update re-verifies every role). It is read-only
// and safe for concurrent use; it does not notice later publishes.
type State struct {
	r    *Repository
	repo *update.Verified
}

// State updates the collection as GetTargetByName does and returns the
// verified state.
func (r *Repository) State(ctx context.Context) (*State, error) {
	remote, source := r.readRemote()
	repo, err := r.update(ctx, remote, source)
	if err != nil {
		return nil, err
	}
	return &State{r: r, repo: repo}, nil
}

// GetTargetByName is Repository.GetTargetByName in this state (ctx is
// unused: there is no I/O).
func (s *State) GetTargetByName(_ context.Context, name string, roles ...string) (TargetWithRole, error) {
	return s.r.lookup(s.repo, name, roles...)
}
