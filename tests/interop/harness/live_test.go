package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// liveWait bounds every wait for a live message.
const liveWait = 5 * time.Second

// liveClient is a WebSocket client of the harness whose text messages arrive
// on messages and whose pongs arrive on pongs.
type liveClient struct {
	conn     *websocket.Conn
	messages chan string
	pongs    chan struct{}
}

// dialLive connects to /ws?scope=scope.
func dialLive(t *testing.T, ts *httptest.Server, scope string) *liveClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws?scope=" + scope
	conn, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	resp.Body.Close()
	c := &liveClient{conn: conn, messages: make(chan string, 16), pongs: make(chan struct{}, 16)}
	conn.SetPongHandler(func(string) error {
		c.pongs <- struct{}{}
		return nil
	})
	go func() {
		defer close(c.messages)
		for {
			kind, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if kind == websocket.TextMessage {
				c.messages <- string(data)
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return c
}

// send writes one text message, then waits until the server has handled it:
// the server reads frames in order, so its pong to a later ping proves that.
func (c *liveClient) send(t *testing.T, text string) {
	t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		t.Fatalf("write %s: %v", text, err)
	}
	c.sync(t)
}

// sync pings and waits for the pong.
func (c *liveClient) sync(t *testing.T) {
	t.Helper()
	if err := c.conn.WriteControl(websocket.PingMessage, []byte("sync"), time.Now().Add(liveWait)); err != nil {
		t.Fatalf("ping: %v", err)
	}
	select {
	case <-c.pongs:
	case <-time.After(liveWait):
		t.Fatal("no pong from the live server")
	}
}

// next returns the next text message.
func (c *liveClient) next(t *testing.T) string {
	t.Helper()
	select {
	case m, ok := <-c.messages:
		if !ok {
			t.Fatal("live connection closed")
		}
		return m
	case <-time.After(liveWait):
		t.Fatal("no live message")
	}
	return ""
}

func TestPushPublishesCursorToSubscribedClient(t *testing.T) {
	ts := startHarness(t)
	client := dialLive(t, ts, "s1")
	client.send(t, `{"topic":"subscribe","data":{}}`)

	push(t, ts, `[
		{"id":"1","scope":"s1","name":"n.create","args":{"id":"1","data":1}},
		{"id":"2","scope":"s1","name":"n.create","args":{"id":"2","data":2}}
	]`)
	if got := client.next(t); got != `{"topic":"sync:s1","data":{"cursor":2}}` {
		t.Fatalf("live message %s", got)
	}
}

func TestPublicationsReachOnlySubscribersOfTheirScope(t *testing.T) {
	ts := startHarness(t)
	a := dialLive(t, ts, "a")
	def := dialLive(t, ts, "")
	late := dialLive(t, ts, "a")
	a.send(t, `{"topic":"subscribe","data":{}}`)
	def.send(t, `{"topic":"subscribe","data":{}}`)
	late.sync(t)

	pushOne(t, ts, `{"id":"1","scope":"a","name":"n.create","args":{"id":"1","data":1}}`)
	pushOne(t, ts, `{"id":"2","name":"n.create","args":{"id":"2","data":2}}`)
	// A failed or duplicate push changes nothing and publishes nothing.
	pushOne(t, ts, `{"id":"3","scope":"a","name":"n.create","args":{"id":"1","data":1}}`)
	pushOne(t, ts, `{"id":"1","scope":"a","name":"n.create","args":{"id":"1","data":1}}`)
	late.send(t, `{"topic":"subscribe","data":{}}`)
	pushOne(t, ts, `{"id":"4","scope":"a","name":"n.create","args":{"id":"4","data":4}}`)

	if got := a.next(t); got != `{"topic":"sync:a","data":{"cursor":1}}` {
		t.Fatalf("scope a subscriber got %s first", got)
	}
	if got := a.next(t); got != `{"topic":"sync:a","data":{"cursor":3}}` {
		t.Fatalf("scope a subscriber got %s second", got)
	}
	if got := def.next(t); got != `{"topic":"sync:_default","data":{"cursor":2}}` {
		t.Fatalf("default scope subscriber got %s", got)
	}
	if got := late.next(t); got != `{"topic":"sync:a","data":{"cursor":3}}` {
		t.Fatalf("late subscriber got %s first", got)
	}
}

func TestUnsubscribeStopsPublications(t *testing.T) {
	ts := startHarness(t)
	client := dialLive(t, ts, "s")
	client.send(t, `{"topic":"subscribe","data":{}}`)
	pushOne(t, ts, `{"id":"1","scope":"s","name":"n.create","args":{"id":"1","data":1}}`)
	client.send(t, `{"topic":"unsubscribe"}`)
	pushOne(t, ts, `{"id":"2","scope":"s","name":"n.create","args":{"id":"2","data":2}}`)
	client.send(t, `{"topic":"subscribe","data":{}}`)
	pushOne(t, ts, `{"id":"3","scope":"s","name":"n.create","args":{"id":"3","data":3}}`)

	for _, want := range []string{`{"topic":"sync:s","data":{"cursor":1}}`, `{"topic":"sync:s","data":{"cursor":3}}`} {
		if got := client.next(t); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}

func TestLiveHandshakeFailuresAreHTTPErrors(t *testing.T) {
	ts := startHarness(t)
	if r := send(t, http.MethodGet, ts.URL+"/ws", ""); r.status != http.StatusBadRequest || r.body != "websocket upgrade required\n" {
		t.Fatalf("plain GET /ws: %d %q", r.status, r.body)
	}
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "8")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Sec-WebSocket-Version") != "13" {
		t.Fatalf("wrong version: %d %v", resp.StatusCode, resp.Header)
	}
}
