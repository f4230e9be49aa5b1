package main

import (
	"fmt"
	"net/http"
	"testing"
)

func TestTrimMakesCursorsBelowTheHeadGone(t *testing.T) {
	ts := startHarness(t)
	for i := 1; i <= 3; i++ {
		pushOne(t, ts, fmt.Sprintf(`{"id":"m%d","name":"n.create","args":{"id":"%d","data":%d}}`, i, i, i))
	}
	if body := post(t, ts, "/_admin/trim", `{}`, http.StatusOK); body != `{"cursor":3}`+"\n" {
		t.Fatalf("trim answered %q", body)
	}
	for _, cursor := range []int{1, 2} {
		body := post(t, ts, "/_sync/pull", fmt.Sprintf(`{"cursor":%d}`, cursor), http.StatusGone)
		if body != `{"code":"cursor_too_old","error":"sync: cursor too old"}`+"\n" {
			t.Fatalf("pull from %d answered %q", cursor, body)
		}
	}
	if page := pull(t, ts, `{"cursor":3}`); page.Changes != nil {
		t.Fatalf("pull from the head: %+v", page)
	}
	// Cursor 0 is never too old: it gets the retained tail (the head change).
	if page := pull(t, ts, `{"cursor":0}`); len(page.Changes) != 1 || page.Changes[0].Cursor != 3 {
		t.Fatalf("pull from 0 after trim: %+v", page)
	}
	// The snapshot still holds everything.
	requireJSON(t, []byte(post(t, ts, "/_sync/snapshot", `{}`, http.StatusOK)),
		`{"data":{"n":{"1":1,"2":2,"3":3}},"cursor":3}`)
}

func TestTrimOfAScopeWithOneChangeStillSetsTheFloor(t *testing.T) {
	ts := startHarness(t)
	pushOne(t, ts, `{"id":"a","scope":"a","name":"n.create","args":{"id":"1","data":1}}`)
	pushOne(t, ts, `{"id":"b","scope":"b","name":"n.create","args":{"id":"2","data":2}}`)
	if body := post(t, ts, "/_admin/trim", `{"scope":"b"}`, http.StatusOK); body != `{"cursor":2}`+"\n" {
		t.Fatalf("trim answered %q", body)
	}
	post(t, ts, "/_sync/pull", `{"scope":"b","cursor":1}`, http.StatusGone)
	// Other scopes are untouched, and trimming an empty scope is a no-op.
	if page := pull(t, ts, `{"scope":"a","cursor":0}`); len(page.Changes) != 1 {
		t.Fatalf("scope a after trimming b: %+v", page)
	}
	if body := post(t, ts, "/_admin/trim", `{"scope":"empty"}`, http.StatusOK); body != `{"cursor":0}`+"\n" {
		t.Fatalf("trim of an empty scope answered %q", body)
	}
}

func TestRejectRuleFailsMatchingMutationsWithItsText(t *testing.T) {
	ts := startHarness(t)
	if body := post(t, ts, "/_admin/reject", `{"name":"todo.create","arg_contains":"\"forbidden\"","error":"nope: forbidden"}`, http.StatusOK); body != "{}\n" {
		t.Fatalf("reject answered %q", body)
	}
	post(t, ts, "/_admin/reject", `{"arg_contains":"boom","error":"app: boom"}`, http.StatusOK)

	results := push(t, ts, `[
		{"id":"1","name":"todo.create","args":{"id":"t1","data":"forbidden"}},
		{"id":"2","name":"todo.update","args":{"id":"t1","data":"forbidden"}},
		{"id":"3","name":"todo.create","args":{"id":"t2","data":"fine"}},
		{"id":"4","name":"whatever","args":{"boom":true}}
	]`)
	want := []struct {
		ok   bool
		text string
	}{{false, "nope: forbidden"}, {false, "sync: not found"}, {true, ""}, {false, "app: boom"}}
	for i, w := range want {
		if results[i].OK != w.ok || results[i].Error != w.text {
			t.Errorf("result %d: %+v, want ok=%v error %q", i, results[i], w.ok, w.text)
		}
	}

	post(t, ts, "/_admin/reject", `{"clear":true}`, http.StatusOK)
	res := pushOne(t, ts, `{"id":"1","name":"todo.create","args":{"id":"t1","data":"forbidden"}}`)
	if !res.OK {
		t.Fatalf("rejected mutation retried after clear: %+v", res)
	}
}

func TestRejectRuleDoesNotAffectAlreadySeenMutations(t *testing.T) {
	ts := startHarness(t)
	m := `{"id":"1","name":"todo.create","args":{"id":"t1","data":1}}`
	pushOne(t, ts, m)
	post(t, ts, "/_admin/reject", `{"error":"everything fails"}`, http.StatusOK)
	if res := pushOne(t, ts, m); !res.OK || res.Cursor != 1 {
		t.Fatalf("duplicate under a reject-all rule: %+v", res)
	}
	if res := pushOne(t, ts, `{"id":"2","name":"x"}`); res.OK || res.Error != "everything fails" {
		t.Fatalf("new mutation under a reject-all rule: %+v", res)
	}
}

func TestAdminRejectsMalformedRequests(t *testing.T) {
	ts := startHarness(t)
	cases := []struct{ path, body, text string }{
		{"/_admin/trim", ``, "invalid request body"},
		{"/_admin/trim", `{"scope":"a","extra":1}`, "invalid request body"},
		{"/_admin/reject", `{}`, "error is required"},
		{"/_admin/reject", `{"name":"x"}`, "error is required"},
		{"/_admin/reject", `{"clear":true,"error":"x"}`, "clear takes no other field"},
		{"/_admin/reject", `{"error":"x","unknown":1}`, "invalid request body"},
	}
	for _, c := range cases {
		body := post(t, ts, c.path, c.body, http.StatusBadRequest)
		if want := `{"code":"invalid_mutation","error":"` + c.text + `"}` + "\n"; body != want {
			t.Errorf("%s %q answered %q, want %q", c.path, c.body, body, want)
		}
	}
	if r := send(t, http.MethodGet, ts.URL+"/_admin/trim", ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /_admin/trim: status %d", r.status)
	}
}
