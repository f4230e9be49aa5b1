// Command mizu-harness serves the real mizu sync server (module
// github.com/go-mizu/mizu) for the mizu-sync interop suite.
//
// It wires mizu's own sync engine, HTTP transport, memory store and live
// WebSocket server together with an apply function implementing the project's
// default data convention, plus a small admin API the scenario suite uses to
// trim logs and inject failures. See ../README.md.
//
// Usage:
//
//	mizu-harness [-addr 127.0.0.1:0] [-log]
//
// Once ready it prints exactly one line, "listening on http://ADDR", to stdout
// and serves until it receives SIGINT or SIGTERM (or is killed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mizu-harness:", err)
		os.Exit(1)
	}
}

// run parses args, listens, announces the address on stdout and serves until
// ctx is done. It returns nil after a shutdown requested through ctx.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("mizu-harness", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:0", "TCP address to listen on (port 0 picks a free port)")
	logRequests := flags.Bool("log", false, "log one line per request to stderr")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", flags.Args())
	}

	requestLog := io.Discard
	if *logRequests {
		requestLog = stderr
	}
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	server := &http.Server{
		Handler:           newServer(requestLog),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()

	// Serve is already accepting: the listener is bound, so the line is true.
	if _, err := fmt.Fprintf(stdout, "listening on http://%s\n", listener.Addr()); err != nil {
		_ = server.Close()
		return err
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		if err := server.Close(); err != nil {
			return err
		}
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
