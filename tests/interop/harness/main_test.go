package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunAnnouncesItsAddressAndServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdoutR, stdoutW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, stdoutW, io.Discard)
		stdoutW.Close()
	}()

	lines := bufio.NewScanner(stdoutR)
	if !lines.Scan() {
		t.Fatalf("no line on stdout: %v", lines.Err())
	}
	base, ok := strings.CutPrefix(lines.Text(), "listening on http://127.0.0.1:")
	if !ok || base == "" || base == "0" {
		t.Fatalf("stdout line %q", lines.Text())
	}
	base = "http://127.0.0.1:" + base

	resp, err := http.Post(base+"/_sync/snapshot", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("snapshot status %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if lines.Scan() {
		t.Fatalf("extra stdout line %q", lines.Text())
	}
}

func TestRunRejectsUnknownFlagsAndArguments(t *testing.T) {
	ctx := context.Background()
	if err := run(ctx, []string{"-port", "1"}, io.Discard, io.Discard); err == nil {
		t.Error("unknown flag accepted")
	}
	if err := run(ctx, []string{"serve"}, io.Discard, io.Discard); err == nil {
		t.Error("positional argument accepted")
	}
	if err := run(ctx, []string{"-addr", "127.0.0.1:notaport"}, io.Discard, io.Discard); err == nil {
		t.Error("bad address accepted")
	}
}
