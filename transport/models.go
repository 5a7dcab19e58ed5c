package transport

import (
	"context"
	"net/http"
	"sort"

	"github.com/bytedance/sonic"
	"github.com/cloudwego/hertz/pkg/app"
)

// modelCreated is the fixed "created" time One API reports for models.
const modelCreated = 1626777600

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	Root    string `json:"root"`
	Parent  any    `json:"parent"`
}

// visibleModels lists what the caller may use: the token's allow-list
// restricted to routable models, or every model routable for its group.
func (s *Server) visibleModels(c *app.RequestContext) ([]modelObject, bool) {
	tok, user, _, ok := s.authenticate(c)
	if !ok {
		return nil, false
	}
	group := requestGroup(tok, user)
	r := s.cat.Router()
	var names []string
	for _, m := range r.Models(group) {
		if tok.AllowsModel(m) {
			names = append(names, m)
		}
	}
	sort.Strings(names)
	out := make([]modelObject, 0, len(names))
	for _, m := range names {
		owner := "custom"
		if ch, err := r.Pick(group, m, nil); err == nil && s.deps.TypeName != nil {
			owner = s.deps.TypeName(ch.Type)
		}
		out = append(out, modelObject{ID: m, Object: "model", Created: modelCreated, OwnedBy: owner, Root: m})
	}
	return out, true
}

func (s *Server) listModels(_ context.Context, c *app.RequestContext) {
	ms, ok := s.visibleModels(c)
	if !ok {
		s.keyError(c)
		return
	}
	b, _ := sonic.Marshal(map[string]any{"object": "list", "data": ms})
	c.Data(http.StatusOK, "application/json", b)
}

func (s *Server) getModel(_ context.Context, c *app.RequestContext) {
	ms, ok := s.visibleModels(c)
	if !ok {
		s.keyError(c)
		return
	}
	want := c.Param("model")
	for _, m := range ms {
		if m.ID == want {
			b, _ := sonic.Marshal(m)
			c.Data(http.StatusOK, "application/json", b)
			return
		}
	}
	writeError(c, apiError(http.StatusNotFound, typeInvalidRequest, "model_not_found",
		"The model '"+want+"' does not exist or you do not have access to it."), "")
}

func (s *Server) keyError(c *app.RequestContext) {
	if _, had := extractKey(c); !had {
		writeError(c, errNoKey, "")
		return
	}
	writeError(c, errBadKey, "")
}
