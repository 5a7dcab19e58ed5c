package main

import (
	"encoding/json"
	"testing"
)

// A channel's forced system prompt, parameter overrides and header
// overrides reach its upstream; a request with its own system message
// keeps it. POST /api/channel/ answers with the created channel.
func TestChannelOverrides(t *testing.T) {
	g := startGateway(t, t.TempDir())
	m := newMockOpenAI(t)
	g.setPrices()
	r := g.call("POST", "/api/channel/", map[string]any{"type": 1, "name": "shaped", "key": "sk-up", "base_url": m.url(),
		"models": "test-model", "system_prompt": "Be brief.", "param_override": `{"temperature":0.1,"user":"gateway"}`,
		"header_override": `{"X-Extra":"yes","Authorization":"Bearer sk-override"}`})
	if !r.Success {
		t.Fatalf("create: %s", r.Message)
	}
	var created struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(r.Data, &created); err != nil || created.ID == 0 || created.Name != "shaped" {
		t.Fatalf("created channel in data: %s (%v)", r.Data, err)
	}
	_, access := g.newUser("olga", 1_000_000)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	if resp, body := g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","temperature":0.9,"messages":[{"role":"user","content":"hi"}]}`); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	call := m.last()
	msgs, _ := call.Body["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["role"] != "system" || msgs[0].(map[string]any)["content"] != "Be brief." {
		t.Fatalf("messages upstream: %v", call.Body["messages"])
	}
	if call.Body["temperature"] != 0.1 || call.Body["user"] != "gateway" || call.Body["model"] != "test-model" {
		t.Fatalf("body upstream: %v", call.Body)
	}
	if call.Header.Get("X-Extra") != "yes" || call.Auth != "Bearer sk-override" || len(call.Header.Values("Authorization")) != 1 {
		t.Fatalf("headers upstream: %v", call.Header)
	}
	// The client's own system message wins.
	g.post("/v1/chat/completions", tok.Key, `{"model":"test-model","messages":[{"role":"system","content":"Mine."},{"role":"user","content":"hi"}]}`)
	msgs, _ = m.last().Body["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["content"] != "Mine." {
		t.Fatalf("own system message: %v", msgs)
	}
	// Bad overrides are refused with the /api envelope.
	for _, bad := range []map[string]any{{"param_override": "[1]"}, {"header_override": `{"X":1}`}, {"header_override": `{"Bad Name":"v"}`}} {
		in := map[string]any{"type": 1, "name": "bad", "key": "k", "base_url": m.url(), "models": "test-model"}
		for k, v := range bad {
			in[k] = v
		}
		if r := g.call("POST", "/api/channel/", in); r.Success {
			t.Fatalf("accepted %v", bad)
		}
	}
}
