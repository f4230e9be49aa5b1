package main

import (
	"errors"
	"strings"
	"sync"

	msync "github.com/go-mizu/mizu/sync"
)

// rejectRule makes matching mutations fail with a fixed error text.
type rejectRule struct {
	// name, when not empty, must equal the mutation's name.
	name string
	// argContains, when not empty, must occur in the mutation's args exactly as
	// they arrived on the wire (raw JSON text; absent args are "").
	argContains string
	// text is the error text the failing mutation reports.
	text string
}

// matches reports whether the rule applies to m.
func (r rejectRule) matches(m msync.Mutation) bool {
	if r.name != "" && r.name != m.Name {
		return false
	}
	return r.argContains == "" || strings.Contains(string(m.Args), r.argContains)
}

// rejectRules is the ordered set of rules installed through the admin API.
type rejectRules struct {
	mu    sync.Mutex
	rules []rejectRule
}

// add appends a rule; earlier rules take precedence.
func (rs *rejectRules) add(r rejectRule) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.rules = append(rs.rules, r)
}

// clear removes every rule.
func (rs *rejectRules) clear() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.rules = nil
}

// check returns an error carrying the text of the first rule matching m, or
// nil when no rule matches.
func (rs *rejectRules) check(m msync.Mutation) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.rules {
		if r.matches(m) {
			return errors.New(r.text)
		}
	}
	return nil
}
