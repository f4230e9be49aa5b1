package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// startHarness serves a fresh harness on a real 127.0.0.1 listener.
func startHarness(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(newServer(io.Discard))
	t.Cleanup(ts.Close)
	return ts
}

// reply is an HTTP response with its body read.
type reply struct {
	status int
	header http.Header
	body   string
}

// send performs one request with a JSON content type and reads the answer.
func send(t *testing.T, method, url, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s: %v", url, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

// post sends a POST and requires the given status.
func post(t *testing.T, ts *httptest.Server, path, body string, status int) string {
	t.Helper()
	r := send(t, http.MethodPost, ts.URL+path, body)
	if r.status != status {
		t.Fatalf("POST %s %s: status %d, want %d; body %s", path, body, r.status, status, r.body)
	}
	return r.body
}

// wireResult is one push result as the harness test reads it.
type wireResult struct {
	OK      bool         `json:"ok"`
	Cursor  uint64       `json:"cursor"`
	Error   string       `json:"error"`
	Changes []wireChange `json:"changes"`
}

// wireChange is one change as the harness test reads it.
type wireChange struct {
	Cursor uint64          `json:"cursor"`
	Scope  string          `json:"scope"`
	Time   string          `json:"time"`
	Data   json.RawMessage `json:"data"`
}

// pullPage is a pull response as the harness test reads it.
type pullPage struct {
	Changes    []wireChange `json:"changes"`
	HasMore    bool         `json:"has_more"`
	NextCursor uint64       `json:"next_cursor"`
}

// push sends the mutations (a JSON array text) and returns the results.
func push(t *testing.T, ts *httptest.Server, mutations string) []wireResult {
	t.Helper()
	body := post(t, ts, "/_sync/push", `{"mutations":`+mutations+`}`, http.StatusOK)
	var resp struct {
		Results []wireResult `json:"results"`
	}
	decode(t, body, &resp)
	return resp.Results
}

// pushOne sends one mutation and returns its result.
func pushOne(t *testing.T, ts *httptest.Server, mutation string) wireResult {
	t.Helper()
	results := push(t, ts, "["+mutation+"]")
	if len(results) != 1 {
		t.Fatalf("push %s: %d results, want 1", mutation, len(results))
	}
	return results[0]
}

// pull sends a pull request body and decodes the 200 answer.
func pull(t *testing.T, ts *httptest.Server, request string) pullPage {
	t.Helper()
	var page pullPage
	decode(t, post(t, ts, "/_sync/pull", request, http.StatusOK), &page)
	return page
}

// decode unmarshals body into v or fails the test.
func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
}

// requireJSON fails unless got and want are the same JSON value.
func requireJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("decode %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("decode want %q: %v", want, err)
	}
	gs, _ := json.Marshal(g)
	ws, _ := json.Marshal(w)
	if string(gs) != string(ws) {
		t.Fatalf("JSON mismatch:\n got  %s\n want %s", gs, ws)
	}
}
