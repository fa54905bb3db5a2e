package server

import (
	"errors"
	"io"
	"sync"

	"github.com/notary-go/notary/api"
)

// DefaultMaxUploadBytesInFlight bounds the update bytes all requests of one
// server hold at once (Options.MaxUploadBytesInFlight). Validating an
// update costs a few times its size in memory, so this bounds the memory
// uploads can take together (issue 10 item 1).
const DefaultMaxUploadBytesInFlight int64 = 256 << 20

// errUploadsBusy is what a budgetReader fails with once the server holds
// its budget of upload bytes. The client gets 503 UNAVAILABLE with
// Retry-After (uploadsBusy), so it tries again later rather than the
// server running out of memory.
var errUploadsBusy = errors.New("server: too many update bytes in flight")

func uploadsBusy() error {
	return api.NewError(api.CodeUnavailable, "too many update bytes in flight, retry later")
}

// A byteBudget is a counting semaphore over bytes that never waits: an
// acquisition that does not fit fails at once, so a flood of uploads costs
// the server a refusal each, not a queue of held connections.
type byteBudget struct {
	mu   sync.Mutex
	used int64
	max  int64
}

func (b *byteBudget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.max-b.used {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// budgetReader charges every byte read from r to budget, failing with
// errUploadsBusy when the budget is spent. Charging as bytes arrive
// (rather than by Content-Length) counts chunked bodies too, and a client
// cannot reserve what it does not send. The caller releases held.
type budgetReader struct {
	r      io.Reader
	budget *byteBudget
	held   int64
}

func (br *budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if n > 0 {
		if !br.budget.tryAcquire(int64(n)) {
			return 0, errUploadsBusy
		}
		br.held += int64(n)
	}
	return n, err
}

func (br *budgetReader) done() { br.budget.release(br.held) }

func isUploadsBusy(err error) bool { return errors.Is(err, errUploadsBusy) }
