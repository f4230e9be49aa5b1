package main

import (
	"context"
	"sync"

	msync "github.com/go-mizu/mizu/sync"
	"github.com/go-mizu/mizu/sync/memory"
)

// changeLog is the msync.Log the engine uses: mizu's memory log plus two
// things the harness needs from it.
//
//   - A trim floor per scope. memory.Log.Trim only records its "too old"
//     floor when it actually drops an entry, so trimming a scope whose only
//     change is the head would leave older cursors pullable. changeLog
//     records the floor on every Trim, so that after Trim(before) any pull
//     from 0 < cursor < before fails with msync.ErrCursorTooOld.
//   - The cursor of the last append per scope since the previous
//     takeAppended call, which the server publishes on the live channel.
type changeLog struct {
	inner *memory.Log

	mu       sync.Mutex
	floors   map[string]uint64
	appended map[string]uint64
}

var _ msync.Log = (*changeLog)(nil)

// newChangeLog returns an empty log.
func newChangeLog() *changeLog {
	return &changeLog{
		inner:    memory.NewLog(),
		floors:   make(map[string]uint64),
		appended: make(map[string]uint64),
	}
}

// Append appends to the memory log and remembers the scope's new cursor.
func (l *changeLog) Append(ctx context.Context, scope string, changes []msync.Change) (uint64, error) {
	cursor, err := l.inner.Append(ctx, scope, changes)
	if err != nil || len(changes) == 0 {
		return cursor, err
	}
	l.mu.Lock()
	l.appended[scope] = cursor
	l.mu.Unlock()
	return cursor, nil
}

// Since fails with msync.ErrCursorTooOld below the trim floor and otherwise
// reads the memory log.
func (l *changeLog) Since(ctx context.Context, scope string, cursor uint64, limit int) ([]msync.Change, error) {
	l.mu.Lock()
	floor := l.floors[scope]
	l.mu.Unlock()
	if cursor > 0 && cursor < floor {
		return nil, msync.ErrCursorTooOld
	}
	return l.inner.Since(ctx, scope, cursor, limit)
}

// Cursor returns the scope's latest cursor.
func (l *changeLog) Cursor(ctx context.Context, scope string) (uint64, error) {
	return l.inner.Cursor(ctx, scope)
}

// Trim drops the changes below before and raises the scope's trim floor.
func (l *changeLog) Trim(ctx context.Context, scope string, before uint64) error {
	if err := l.inner.Trim(ctx, scope, before); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if before > l.floors[scope] {
		l.floors[scope] = before
	}
	return nil
}

// trimToHead trims the scope up to its current head and returns the head: a
// pull from 0 < cursor < head is then too old, a pull from head is not.
func (l *changeLog) trimToHead(ctx context.Context, scope string) (uint64, error) {
	head, err := l.Cursor(ctx, scope)
	if err != nil || head == 0 {
		return head, err
	}
	return head, l.Trim(ctx, scope, head)
}

// takeAppended returns scope → last cursor for every scope appended to since
// the previous call, and forgets them.
func (l *changeLog) takeAppended() map[string]uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	taken := l.appended
	l.appended = make(map[string]uint64)
	return taken
}
