package main

import (
	"net/http"

	"github.com/go-mizu/mizu"
	synchttp "github.com/go-mizu/mizu/sync/http"
)

// trimRequest is the body of POST /_admin/trim.
type trimRequest struct {
	Scope string `json:"scope,omitempty"`
}

// trimResponse is the answer to POST /_admin/trim.
type trimResponse struct {
	Cursor uint64 `json:"cursor"`
}

// rejectRequest is the body of POST /_admin/reject.
type rejectRequest struct {
	Clear       bool   `json:"clear,omitempty"`
	Name        string `json:"name,omitempty"`
	ArgContains string `json:"arg_contains,omitempty"`
	Error       string `json:"error,omitempty"`
}

// adminBodyLimit caps admin request bodies, like mizu's pull and snapshot.
const adminBodyLimit = 1 << 16

// mountAdmin registers the admin API on app.
func (s *Server) mountAdmin(app *mizu.App) {
	app.Post(adminPrefix+"/trim", s.handleTrim)
	app.Post(adminPrefix+"/reject", s.handleReject)
}

// handleTrim trims a scope's log up to its head and answers {"cursor":HEAD}.
func (s *Server) handleTrim(c *mizu.Ctx) error {
	var req trimRequest
	if err := c.BindJSON(&req, adminBodyLimit); err != nil {
		return badAdminRequest(c, "invalid request body")
	}
	s.commit.Lock()
	head, err := s.log.trimToHead(c.Context(), scopeOrDefault(req.Scope))
	s.commit.Unlock()
	if err != nil {
		return c.JSON(http.StatusInternalServerError, synchttp.ErrorResponse{
			Code: synchttp.CodeInternal, Error: err.Error(),
		})
	}
	return c.JSON(http.StatusOK, trimResponse{Cursor: head})
}

// handleReject adds a reject rule, or clears them all, and answers {}.
func (s *Server) handleReject(c *mizu.Ctx) error {
	var req rejectRequest
	if err := c.BindJSON(&req, adminBodyLimit); err != nil {
		return badAdminRequest(c, "invalid request body")
	}
	switch {
	case req.Clear && (req.Name != "" || req.ArgContains != "" || req.Error != ""):
		return badAdminRequest(c, "clear takes no other field")
	case req.Clear:
		s.rules.clear()
	case req.Error == "":
		return badAdminRequest(c, "error is required")
	default:
		s.rules.add(rejectRule{name: req.Name, argContains: req.ArgContains, text: req.Error})
	}
	return c.JSON(http.StatusOK, struct{}{})
}

// badAdminRequest answers 400 with mizu's error body shape.
func badAdminRequest(c *mizu.Ctx, text string) error {
	return c.JSON(http.StatusBadRequest, synchttp.ErrorResponse{
		Code: synchttp.CodeInvalid, Error: text,
	})
}
