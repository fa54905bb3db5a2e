package keystore

import (
	"context"
	"sort"
	"sync"

	"github.com/notary-go/notary/keys"
)

// MemoryStore keeps keys in memory, unencrypted, for tests and for
// short-lived processes. It follows v1's GUN rule (keys.PEMGUN) like the
// file store. The zero value is not usable; call NewMemory.
type MemoryStore struct {
	mu   sync.RWMutex
	keys map[string]memoryEntry
}

type memoryEntry struct {
	key  *keys.PrivateKey
	info KeyInfo
}

var _ Service = (*MemoryStore)(nil)

// NewMemory returns an empty MemoryStore.
func NewMemory() *MemoryStore { return &MemoryStore{keys: map[string]memoryEntry{}} }

// Create implements Service.
func (s *MemoryStore) Create(ctx context.Context, role, gun, keyType string) (keys.PublicKey, error) {
	if err := ctxErr(ctx); err != nil {
		return keys.PublicKey{}, err
	}
	key, err := generate(keyType)
	if err != nil {
		return keys.PublicKey{}, err
	}
	if err := s.Add(ctx, KeyInfo{Role: role, GUN: gun}, key); err != nil {
		return keys.PublicKey{}, err
	}
	return key.Public(), nil
}

// Add implements Service.
func (s *MemoryStore) Add(ctx context.Context, info KeyInfo, key *keys.PrivateKey) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	id, err := checkAdd(info, key)
	if err != nil {
		return err
	}
	plain := key.Plain()
	info = KeyInfo{ID: id, Role: info.Role, GUN: keys.PEMGUN(info.Role, info.GUN), Type: plain.Type()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[id]; ok {
		return &ExistsError{ID: id}
	}
	s.keys[id] = memoryEntry{key: plain, info: info}
	return nil
}

// Get implements Service.
func (s *MemoryStore) Get(ctx context.Context, id string) (*keys.PrivateKey, KeyInfo, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, KeyInfo{}, err
	}
	if err := checkID(id); err != nil {
		return nil, KeyInfo{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.keys[id]
	if !ok {
		return nil, KeyInfo{}, &NotFoundError{ID: id}
	}
	return e.key, e.info, nil
}

// List implements Service; keys come sorted by ID.
func (s *MemoryStore) List(ctx context.Context) ([]KeyInfo, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]KeyInfo, 0, len(s.keys))
	for _, e := range s.keys {
		out = append(out, e.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Remove implements Service.
func (s *MemoryStore) Remove(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := checkID(id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[id]; !ok {
		return &NotFoundError{ID: id}
	}
	delete(s.keys, id)
	return nil
}
