package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// invalidBody is mizu's answer to any request body it cannot decode.
const invalidBody = `{"code":"invalid_mutation","error":"invalid request body"}` + "\n"

// mutations returns a JSON array of n creates with ids prefix0..prefixN-1.
func mutations(prefix string, n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"id":"%s%d","name":"n.create","args":{"id":"%s%d","data":%d}}`, prefix, i, prefix, i, i)
	}
	return "[" + strings.Join(items, ",") + "]"
}

func TestStrictDecodingAndBatchLimitsMatchTheReadme(t *testing.T) {
	ts := startHarness(t)
	one := `{"id":"x","name":"n.create","args":{"id":"x","data":1}}`
	cases := []struct{ path, body, want string }{
		{"/_sync/push", ``, invalidBody},
		{"/_sync/push", `{"mutations":[` + one + `]} {}`, invalidBody},
		{"/_sync/push", `{"mutations":[` + one + `],"extra":1}`, invalidBody},
		{"/_sync/push", `{"mutations":[{"id":"x","name":"n.create","seq":1}]}`, invalidBody},
		{"/_sync/push", `{}`, `{"code":"invalid_mutation","error":"no mutations provided"}` + "\n"},
		{"/_sync/push", `{"mutations":[]}`, `{"code":"invalid_mutation","error":"no mutations provided"}` + "\n"},
		{"/_sync/push", `{"mutations":null}`, `{"code":"invalid_mutation","error":"no mutations provided"}` + "\n"},
		{"/_sync/push", `{"mutations":` + mutations("b", 101) + `}`, `{"code":"invalid_mutation","error":"too many mutations in batch"}` + "\n"},
		{"/_sync/pull", ``, invalidBody},
		{"/_sync/pull", `{"cursor":-1}`, invalidBody},
		{"/_sync/pull", `{"cursor":"1"}`, invalidBody},
		{"/_sync/pull", `{"cursor":1.5}`, invalidBody},
		{"/_sync/pull", `{"cursor":0,"since":0}`, invalidBody},
		{"/_sync/snapshot", ``, invalidBody},
		{"/_sync/snapshot", `{"scope":"a","cursor":0}`, invalidBody},
	}
	for _, c := range cases {
		got := post(t, ts, c.path, c.body, http.StatusBadRequest)
		if got != c.want {
			t.Errorf("%s %.60q answered %q, want %q", c.path, c.body, got, c.want)
		}
	}
	if results := push(t, ts, mutations("c", 100)); len(results) != 100 {
		t.Fatalf("batch of 100: %d results", len(results))
	}
}

func TestDecodingIsLenientWhereGoJSONIs(t *testing.T) {
	ts := startHarness(t)
	// Keys match case-insensitively, null leaves a field at its zero value,
	// a repeated key keeps its last value, and the content type is not checked.
	res := push(t, ts, `[{"ID":"m1","Scope":null,"NAME":"n.create","Args":{"id":"1","data":1}}]`)
	if !res[0].OK || res[0].Changes[0].Scope != "_default" {
		t.Fatalf("case-insensitive push: %+v", res)
	}
	if page := pull(t, ts, `{"cursor":null,"scope":"x","scope":"_default"}`); len(page.Changes) != 1 {
		t.Fatalf("pull with null cursor and a repeated key: %+v", page)
	}
	r := send(t, http.MethodPost, ts.URL+"/_sync/snapshot", `{}`)
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/_sync/snapshot", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r.status != http.StatusOK || resp.StatusCode != http.StatusOK {
		t.Fatalf("snapshot statuses %d and %d (text/plain)", r.status, resp.StatusCode)
	}
}

func TestBodyLimitsAreOneMebibyteForPushAndSixtyFourKibibytesElsewhere(t *testing.T) {
	ts := startHarness(t)
	// A pull body of exactly the limit is read; one byte more is refused.
	pad := func(total int) string {
		head, tail := `{"cursor":0,"scope":"`, `"}`
		return head + strings.Repeat("s", total-len(head)-len(tail)) + tail
	}
	post(t, ts, "/_sync/pull", pad(1<<16), http.StatusOK)
	if got := post(t, ts, "/_sync/pull", pad(1<<16+1), http.StatusBadRequest); got != invalidBody {
		t.Fatalf("oversized pull answered %q", got)
	}
	if got := post(t, ts, "/_sync/snapshot", `{"scope":"`+strings.Repeat("s", 1<<16)+`"}`, http.StatusBadRequest); got != invalidBody {
		t.Fatalf("oversized snapshot answered %q", got)
	}

	blob := func(total int) string {
		head, tail := `{"mutations":[{"id":"b","name":"blob.create","args":{"id":"b","data":"`, `"}}]}`
		return head + strings.Repeat("x", total-len(head)-len(tail)) + tail
	}
	if got := post(t, ts, "/_sync/push", blob(1<<20+1), http.StatusBadRequest); got != invalidBody {
		t.Fatalf("oversized push answered %q", got)
	}
	post(t, ts, "/_sync/push", blob(1<<20), http.StatusOK)
}

func TestPullLimitDefaultsToOneHundredAndIsCappedAtOneThousand(t *testing.T) {
	ts := startHarness(t)
	for i := range 11 {
		push(t, ts, mutations(fmt.Sprintf("p%d-", i), 100))
	}
	if page := pull(t, ts, `{"cursor":0,"limit":-5}`); len(page.Changes) != 100 || !page.HasMore || page.NextCursor != 100 {
		t.Fatalf("negative limit: %d changes, has_more %v, next %d", len(page.Changes), page.HasMore, page.NextCursor)
	}
	if page := pull(t, ts, `{"cursor":0,"limit":5000}`); len(page.Changes) != 1000 || !page.HasMore || page.NextCursor != 1000 {
		t.Fatalf("limit above the cap: %d changes, has_more %v", len(page.Changes), page.HasMore)
	}
}

func TestWrongMethodAndUnknownPathArePlainText(t *testing.T) {
	ts := startHarness(t)
	for _, method := range []string{http.MethodGet, http.MethodPut} {
		r := send(t, method, ts.URL+"/_sync/pull", "")
		if r.status != http.StatusMethodNotAllowed || r.body != "Method Not Allowed\n" || r.header.Get("Allow") != "POST" ||
			!strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s /_sync/pull: %d %q %v", method, r.status, r.body, r.header)
		}
	}
	for _, path := range []string{"/_sync/nope", "/_sync/push/", "/_sync", "/"} {
		r := send(t, http.MethodPost, ts.URL+path, "{}")
		if r.status != http.StatusNotFound || r.body != "404 page not found\n" {
			t.Errorf("POST %s: %d %q", path, r.status, r.body)
		}
	}
}
