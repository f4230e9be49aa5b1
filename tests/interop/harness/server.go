package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/go-mizu/mizu"
	msync "github.com/go-mizu/mizu/sync"
	synchttp "github.com/go-mizu/mizu/sync/http"
	"github.com/go-mizu/mizu/sync/memory"
)

// Paths served by the harness.
const (
	syncPrefix  = "/_sync"
	adminPrefix = "/_admin"
	livePath    = "/ws"
)

// Server is the harness's HTTP handler: mizu's sync transport under
// /_sync, mizu's live WebSocket at /ws and the admin API under /_admin.
//
// Pushes are serialized and snapshots exclude them (commit), so that a
// snapshot's data and cursor always agree and each push's publications go
// out in cursor order.
type Server struct {
	commit sync.RWMutex
	log    *changeLog
	store  *entityStore
	rules  *rejectRules
	hub    *liveHub
	mux    *http.ServeMux
}

// newServer builds a server with empty state. requestLog receives mizu's
// per-request log lines (io.Discard to silence them).
func newServer(requestLog io.Writer) *Server {
	s := &Server{
		log:   newChangeLog(),
		store: newEntityStore(),
		rules: &rejectRules{},
		hub:   newLiveHub(),
		mux:   http.NewServeMux(),
	}
	engine := msync.New(msync.Options{
		Log:      s.log,
		Apply:    s.apply,
		Snapshot: s.snapshot,
		Dedupe:   memory.NewDedupe(),
	})

	app := mizu.New()
	logger := slog.New(slog.NewTextHandler(requestLog, nil))
	app.SetLogger(logger)
	// Replace the default request logger by one writing to requestLog; it
	// still sets the X-Request-Id response header as the default one does.
	app.ClearMiddleware()
	app.Use(mizu.Logger(mizu.LoggerOptions{Logger: logger}))
	synchttp.New(synchttp.Options{Engine: engine}).MountAt(app, syncPrefix)
	s.mountAdmin(app)

	s.mux.Handle(livePath, s.hub.handler())
	s.mux.Handle("/", app)
	return s
}

// ServeHTTP routes a request, holding the commit lock around pushes (then
// publishing the scopes they changed) and snapshots.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case syncPrefix + "/push":
		s.commit.Lock()
		defer s.commit.Unlock()
		s.mux.ServeHTTP(w, r)
		s.hub.publish(s.log.takeAppended())
	case syncPrefix + "/snapshot":
		s.commit.RLock()
		defer s.commit.RUnlock()
		s.mux.ServeHTTP(w, r)
	default:
		s.mux.ServeHTTP(w, r)
	}
}

// apply is the engine's msync.ApplyFunc: reject rules first, then the data
// convention.
func (s *Server) apply(_ context.Context, m msync.Mutation) ([]msync.Change, error) {
	if err := s.rules.check(m); err != nil {
		return nil, err
	}
	return s.store.apply(m)
}

// snapshot is the engine's msync.SnapshotFunc. The caller (ServeHTTP) holds
// the commit lock, so no push lands between reading the data and the cursor.
func (s *Server) snapshot(ctx context.Context, scope string) (json.RawMessage, uint64, error) {
	data, err := s.store.snapshot(scope)
	if err != nil {
		return nil, 0, err
	}
	cursor, err := s.log.Cursor(ctx, scope)
	if err != nil {
		return nil, 0, err
	}
	return data, cursor, nil
}
