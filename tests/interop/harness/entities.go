package main

import (
	"encoding/json"
	"sync"

	msync "github.com/go-mizu/mizu/sync"
)

// entityStore is the application state behind the apply and snapshot
// functions: scope → collection → id → value (compacted JSON).
type entityStore struct {
	mu     sync.Mutex
	scopes map[string]map[string]map[string]json.RawMessage
}

// newEntityStore returns an empty store.
func newEntityStore() *entityStore {
	return &entityStore{scopes: make(map[string]map[string]map[string]json.RawMessage)}
}

// apply performs one convention mutation in the mutation's scope and returns
// the single change it produced.
//
// Errors are mizu's own values: msync.ErrInvalidMutation for a mutation that
// does not follow the convention, msync.ErrConflict for a create of an
// existing id, msync.ErrNotFound for an update or delete of a missing id.
func (s *entityStore) apply(m msync.Mutation) ([]msync.Change, error) {
	w, err := parseWrite(m)
	if err != nil {
		return nil, err
	}
	data, err := w.change()
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	scope := s.scopes[scopeOrDefault(m.Scope)]
	_, exists := scope[w.collection][w.id]
	switch {
	case w.op == opCreate && exists:
		return nil, msync.ErrConflict
	case w.op != opCreate && !exists:
		return nil, msync.ErrNotFound
	}

	if w.op == opDelete {
		delete(scope[w.collection], w.id)
		if len(scope[w.collection]) == 0 {
			delete(scope, w.collection)
		}
	} else {
		s.collection(m.Scope, w.collection)[w.id] = w.data
	}
	return []msync.Change{{Data: data}}, nil
}

// collection returns the named collection of a scope, creating both if
// needed. The caller holds s.mu.
func (s *entityStore) collection(scope, name string) map[string]json.RawMessage {
	scope = scopeOrDefault(scope)
	collections := s.scopes[scope]
	if collections == nil {
		collections = make(map[string]map[string]json.RawMessage)
		s.scopes[scope] = collections
	}
	entities := collections[name]
	if entities == nil {
		entities = make(map[string]json.RawMessage)
		collections[name] = entities
	}
	return entities
}

// snapshot encodes the scope's state as {"COLLECTION":{"ID":VALUE}} (keys
// sorted; an empty scope is {}; collections emptied by deletes are dropped).
func (s *entityStore) snapshot(scope string) (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	collections := s.scopes[scopeOrDefault(scope)]
	if collections == nil {
		return json.RawMessage("{}"), nil
	}
	return marshalJSON(collections)
}

// scopeOrDefault maps the empty scope to mizu's default scope, as the engine
// does before it calls the app.
func scopeOrDefault(scope string) string {
	if scope == "" {
		return msync.DefaultScope
	}
	return scope
}
