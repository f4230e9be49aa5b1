package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPushedCreateIsPulledAsConventionChange(t *testing.T) {
	ts := startHarness(t)
	res := pushOne(t, ts, `{"id":"m1","name":"todo.create","args":{"id":"t1","data":{"title":"milk","done":false}}}`)
	if !res.OK || res.Cursor != 1 || len(res.Changes) != 1 {
		t.Fatalf("push result %+v, want ok at cursor 1 with one change", res)
	}

	page := pull(t, ts, `{"cursor":0}`)
	if len(page.Changes) != 1 || page.HasMore || page.NextCursor != 1 {
		t.Fatalf("pull page %+v, want one change, no more, next_cursor 1", page)
	}
	change := page.Changes[0]
	if change.Cursor != 1 || change.Scope != "_default" {
		t.Fatalf("change %+v, want cursor 1 in _default", change)
	}
	if _, err := time.Parse(time.RFC3339Nano, change.Time); err != nil {
		t.Fatalf("change time %q is not RFC 3339: %v", change.Time, err)
	}
	requireJSON(t, change.Data, `{"entity":"todo","id":"t1","op":"create","data":{"title":"milk","done":false}}`)
}

func TestDeleteChangeOmitsData(t *testing.T) {
	ts := startHarness(t)
	pushOne(t, ts, `{"id":"m1","name":"todo.create","args":{"id":"t1","data":1}}`)
	res := pushOne(t, ts, `{"id":"m2","name":"todo.delete","args":{"id":"t1"}}`)
	if !res.OK || len(res.Changes) != 1 {
		t.Fatalf("delete result %+v", res)
	}
	if got := string(res.Changes[0].Data); got != `{"entity":"todo","id":"t1","op":"delete"}` {
		t.Fatalf("delete change data %s", got)
	}
}

func TestSnapshotMapsCollectionsToEntitiesById(t *testing.T) {
	ts := startHarness(t)
	requireJSON(t, []byte(post(t, ts, "/_sync/snapshot", `{}`, http.StatusOK)), `{"data":{},"cursor":0}`)

	push(t, ts, `[
		{"id":"m1","name":"todo.create","args":{"id":"t1","data":{"title":"a"}}},
		{"id":"m2","name":"todo.create","args":{"id":"t2","data":{"title":"b"}}},
		{"id":"m3","name":"todo.update","args":{"id":"t2","data":{"title":"B"}}},
		{"id":"m4","name":"tag.create","args":{"id":"x","data":"red"}},
		{"id":"m5","name":"tag.delete","args":{"id":"x"}},
		{"id":"m6","scope":"other","name":"note.create","args":{"id":"n","data":[1,2]}}
	]`)
	requireJSON(t, []byte(post(t, ts, "/_sync/snapshot", `{}`, http.StatusOK)),
		`{"data":{"todo":{"t1":{"title":"a"},"t2":{"title":"B"}}},"cursor":5}`)
	requireJSON(t, []byte(post(t, ts, "/_sync/snapshot", `{"scope":"other"}`, http.StatusOK)),
		`{"data":{"note":{"n":[1,2]}},"cursor":6}`)
}

func TestConventionFailuresCarryMizuErrorTexts(t *testing.T) {
	ts := startHarness(t)
	pushOne(t, ts, `{"id":"seed","name":"todo.create","args":{"id":"t1","data":{}}}`)
	cases := []struct{ name, args, want string }{
		{"todo.create", `{"id":"t1","data":{}}`, "sync: conflict"},
		{"todo.update", `{"id":"nope","data":{}}`, "sync: not found"},
		{"todo.delete", `{"id":"nope"}`, "sync: not found"},
		{"todo.archive", `{"id":"t1"}`, "sync: invalid mutation"},
		{"todo", `{"id":"t1"}`, "sync: invalid mutation"},
		{".create", `{"id":"t1","data":{}}`, "sync: invalid mutation"},
		{"todo.create", `{"id":"t9"}`, "sync: invalid mutation"},
		{"todo.create", `{"id":"t9","data":null}`, "sync: invalid mutation"},
		{"todo.create", `{"id":"","data":{}}`, "sync: invalid mutation"},
		{"todo.create", `{"id":7,"data":{}}`, "sync: invalid mutation"},
		{"todo.create", `{"id":"t9","data":{},"extra":1}`, "sync: invalid mutation"},
		{"todo.create", `{"ID":"t9","data":{}}`, "sync: invalid mutation"},
		{"todo.delete", `{"id":"t1","data":{}}`, "sync: invalid mutation"},
		{"todo.create", `["t9"]`, "sync: invalid mutation"},
		{"todo.create", `null`, "sync: invalid mutation"},
	}
	for i, c := range cases {
		m := fmt.Sprintf(`{"id":"c%d","name":%q,"args":%s}`, i, c.name, c.args)
		res := pushOne(t, ts, m)
		if res.OK || res.Error != c.want || res.Cursor != 0 || res.Changes != nil {
			t.Errorf("%s: result %+v, want error %q without cursor or changes", m, res, c.want)
		}
	}
	res := pushOne(t, ts, `{"id":"noargs","name":"todo.create"}`)
	if res.OK || res.Error != "sync: invalid mutation" {
		t.Errorf("mutation without args: %+v", res)
	}
}

func TestFailedMutationDoesNotStopTheBatchAndIsNotMarkedSeen(t *testing.T) {
	ts := startHarness(t)
	results := push(t, ts, `[
		{"id":"a","name":"todo.update","args":{"id":"t1","data":1}},
		{"id":"b","name":"todo.create","args":{"id":"t1","data":0}}
	]`)
	if results[0].OK || results[0].Error != "sync: not found" || !results[1].OK || results[1].Cursor != 1 {
		t.Fatalf("results %+v", results)
	}
	again := pushOne(t, ts, `{"id":"a","name":"todo.update","args":{"id":"t1","data":1}}`)
	if !again.OK || again.Cursor != 2 || len(again.Changes) != 1 {
		t.Fatalf("retried failed mutation: %+v, want it applied at cursor 2", again)
	}
}

func TestDuplicateMutationIdReturnsCurrentCursorWithoutChanges(t *testing.T) {
	ts := startHarness(t)
	m := `{"id":"m1","name":"todo.create","args":{"id":"t1","data":1}}`
	pushOne(t, ts, m)
	pushOne(t, ts, `{"id":"m2","name":"todo.create","args":{"id":"t2","data":2}}`)
	body := post(t, ts, "/_sync/push", `{"mutations":[`+m+`]}`, http.StatusOK)
	if body != `{"results":[{"ok":true,"cursor":2}]}`+"\n" {
		t.Fatalf("duplicate push answered %q", body)
	}
	// The same id in another scope is a different mutation.
	other := pushOne(t, ts, `{"id":"m1","scope":"s2","name":"todo.create","args":{"id":"t1","data":1}}`)
	if !other.OK || other.Cursor != 3 || len(other.Changes) != 1 {
		t.Fatalf("same id in another scope: %+v", other)
	}
}

func TestUnknownMutationFieldRejectsTheWholeBatch(t *testing.T) {
	ts := startHarness(t)
	body := post(t, ts, "/_sync/push", `{"mutations":[
		{"id":"ok","name":"todo.create","args":{"id":"t1","data":1}},
		{"id":"bad","name":"todo.create","args":{"id":"t2","data":2},"client":"c1"}
	]}`, http.StatusBadRequest)
	if body != `{"code":"invalid_mutation","error":"invalid request body"}`+"\n" {
		t.Fatalf("body %q", body)
	}
	requireJSON(t, []byte(post(t, ts, "/_sync/snapshot", `{}`, http.StatusOK)), `{"data":{},"cursor":0}`)
}

func TestPullReportsNullChangesAndPagesWithNextCursor(t *testing.T) {
	ts := startHarness(t)
	if body := post(t, ts, "/_sync/pull", `{"cursor":0}`, http.StatusOK); body != `{"changes":null,"has_more":false}`+"\n" {
		t.Fatalf("empty pull answered %q", body)
	}
	var batch []string
	for i := range 5 {
		batch = append(batch, fmt.Sprintf(`{"id":"m%d","name":"n.create","args":{"id":"%d","data":%d}}`, i, i, i))
	}
	push(t, ts, "["+strings.Join(batch, ",")+"]")

	page := pull(t, ts, `{"cursor":0,"limit":2}`)
	if len(page.Changes) != 2 || !page.HasMore || page.NextCursor != 2 {
		t.Fatalf("first page %+v", page)
	}
	page = pull(t, ts, `{"cursor":4,"limit":2}`)
	if len(page.Changes) != 1 || page.HasMore || page.NextCursor != 5 {
		t.Fatalf("last page %+v", page)
	}
	if body := post(t, ts, "/_sync/pull", `{"cursor":5}`, http.StatusOK); body != `{"changes":null,"has_more":false}`+"\n" {
		t.Fatalf("pull at head answered %q", body)
	}
}

func TestCursorsHaveGapsAcrossScopes(t *testing.T) {
	ts := startHarness(t)
	pushOne(t, ts, `{"id":"1","scope":"a","name":"n.create","args":{"id":"1","data":1}}`)
	pushOne(t, ts, `{"id":"2","scope":"b","name":"n.create","args":{"id":"2","data":2}}`)
	pushOne(t, ts, `{"id":"3","scope":"a","name":"n.create","args":{"id":"3","data":3}}`)
	page := pull(t, ts, `{"scope":"a","cursor":0}`)
	if len(page.Changes) != 2 || page.Changes[0].Cursor != 1 || page.Changes[1].Cursor != 3 {
		t.Fatalf("scope a page %+v, want cursors 1 and 3", page)
	}
	page = pull(t, ts, `{"scope":"a","cursor":2}`)
	if len(page.Changes) != 1 || page.Changes[0].Cursor != 3 {
		t.Fatalf("pull of scope a from the other scope's cursor: %+v", page)
	}
}

func TestMutationWithEmptyIdIsNeverDeduplicated(t *testing.T) {
	ts := startHarness(t)
	pushOne(t, ts, `{"id":"seed","name":"n.create","args":{"id":"1","data":0}}`)
	m := `{"id":"","name":"n.update","args":{"id":"1","data":1}}`
	for want := uint64(2); want <= 3; want++ {
		if res := pushOne(t, ts, m); !res.OK || res.Cursor != want || len(res.Changes) != 1 {
			t.Fatalf("empty-id update: %+v, want applied at cursor %d", res, want)
		}
	}
}
