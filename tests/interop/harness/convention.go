package main

import (
	"bytes"
	"encoding/json"
	"strings"

	msync "github.com/go-mizu/mizu/sync"
)

// entityOp is one of the three collection operations of the data convention.
type entityOp string

// The operations of the data convention, as they appear in mutation names
// ("todo.create") and in change data ("op":"create").
const (
	opCreate entityOp = "create"
	opUpdate entityOp = "update"
	opDelete entityOp = "delete"
)

// entityWrite is a convention mutation decoded from its name and args.
type entityWrite struct {
	collection string
	id         string
	op         entityOp
	// data is the compacted new value; nil for a delete.
	data json.RawMessage
}

// changeData is the change "data" of the convention:
// {"entity":COLLECTION,"id":ID,"op":OP,"data":VALUE}, data omitted on delete.
type changeData struct {
	Entity string          `json:"entity"`
	ID     string          `json:"id"`
	Op     entityOp        `json:"op"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// parseWrite decodes a mutation named "<collection>.<op>" with args
// {"id":ID,"data":VALUE} (create, update) or {"id":ID} (delete).
//
// The collection is everything before the last dot and must not be empty.
// Args must be a JSON object with exactly those keys (case-sensitive); id must
// be a non-empty string; data must be present and not null. Anything else,
// including an unknown op, is msync.ErrInvalidMutation.
func parseWrite(m msync.Mutation) (entityWrite, error) {
	dot := strings.LastIndexByte(m.Name, '.')
	if dot <= 0 {
		return entityWrite{}, msync.ErrInvalidMutation
	}
	w := entityWrite{collection: m.Name[:dot], op: entityOp(m.Name[dot+1:])}

	var allowed []string
	switch w.op {
	case opCreate, opUpdate:
		allowed = []string{"id", "data"}
	case opDelete:
		allowed = []string{"id"}
	default:
		return entityWrite{}, msync.ErrInvalidMutation
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(m.Args, &fields); err != nil || fields == nil {
		return entityWrite{}, msync.ErrInvalidMutation
	}
	if len(fields) != len(allowed) {
		return entityWrite{}, msync.ErrInvalidMutation
	}
	for _, key := range allowed {
		if _, ok := fields[key]; !ok {
			return entityWrite{}, msync.ErrInvalidMutation
		}
	}
	if err := json.Unmarshal(fields["id"], &w.id); err != nil || w.id == "" {
		return entityWrite{}, msync.ErrInvalidMutation
	}
	if w.op == opDelete {
		return w, nil
	}

	var value bytes.Buffer
	if err := json.Compact(&value, fields["data"]); err != nil || value.String() == "null" {
		return entityWrite{}, msync.ErrInvalidMutation
	}
	w.data = value.Bytes()
	return w, nil
}

// change encodes the write as the convention's change data.
func (w entityWrite) change() (json.RawMessage, error) {
	return marshalJSON(changeData{Entity: w.collection, ID: w.id, Op: w.op, Data: w.data})
}

// marshalJSON encodes v without HTML escaping (as mizu's responses are) and
// without the encoder's trailing newline.
func marshalJSON(v any) (json.RawMessage, error) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}
