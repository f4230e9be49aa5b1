package main

import (
	"context"
	"net/http"
	"sort"
	"strconv"

	"github.com/go-mizu/mizu/live"
)

// Topic names of the live channel.
const (
	// subscribeTopic is the topic of the message a client sends to start
	// receiving its scope's publications: {"topic":"subscribe","data":{}}.
	subscribeTopic = "subscribe"
	// unsubscribeTopic stops them again.
	unsubscribeTopic = "unsubscribe"
	// syncTopicPrefix prefixes the scope in the topic of a publication.
	syncTopicPrefix = "sync:"
)

// liveHub is mizu's live server with the harness's subscription rule: a
// session's scope is its handshake's "scope" query parameter (default
// "_default"), and a "subscribe" message subscribes it to "sync:SCOPE".
type liveHub struct {
	server *live.Server
}

// newLiveHub returns a hub with no sessions.
func newLiveHub() *liveHub {
	h := &liveHub{}
	h.server = live.New(live.Options{
		OnAuth:    h.authenticate,
		OnMessage: h.receive,
	})
	return h
}

// handler returns the WebSocket endpoint. It must be mounted on a plain
// net/http mux: behind a mizu.App the upgrade fails (see README).
func (h *liveHub) handler() http.Handler {
	return h.server.Handler()
}

// authenticate accepts every handshake and keeps its scope as the session value.
func (h *liveHub) authenticate(_ context.Context, r *http.Request) (any, error) {
	return scopeOrDefault(r.URL.Query().Get("scope")), nil
}

// receive handles a client message: subscribe and unsubscribe act on the
// session's scope topic; every other topic and the data are ignored.
func (h *liveHub) receive(_ context.Context, s *live.Session, topic string, _ []byte) {
	scope, ok := s.Value().(string)
	if !ok {
		return
	}
	switch topic {
	case subscribeTopic:
		h.server.Subscribe(s, syncTopicPrefix+scope)
	case unsubscribeTopic:
		h.server.Unsubscribe(s, syncTopicPrefix+scope)
	}
}

// publish sends {"topic":"sync:S","data":{"cursor":N}} for each scope S of
// cursors, in scope order.
func (h *liveHub) publish(cursors map[string]uint64) {
	scopes := make([]string, 0, len(cursors))
	for scope := range cursors {
		scopes = append(scopes, scope)
	}
	sort.Strings(scopes)
	for _, scope := range scopes {
		data := `{"cursor":` + strconv.FormatUint(cursors[scope], 10) + `}`
		h.server.Publish(syncTopicPrefix+scope, []byte(data))
	}
}
