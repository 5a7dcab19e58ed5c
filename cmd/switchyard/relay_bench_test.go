package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkRelayChat relays non-streamed chats through a whole in-process
// gateway (auth, reservation, outbox, shipper, Raft apply) to the mock
// upstream. It is for allocation and CPU profiles of the request path
// (go test -bench RelayChat -memprofile …); throughput targets are
// measured by bench/, not here.
func BenchmarkRelayChat(b *testing.B) {
	g := startGateway(b, b.TempDir())
	m := newMockOpenAI(b)
	g.addChannel(m, "test-model")
	g.setPrices()
	_, access := g.newUser("bench", 1<<50)
	tok := g.newToken(access, map[string]any{"unlimited_quota": true})
	body := `{"model":"test-model","messages":[{"role":"user","content":"Say hello"}],"max_tokens":64}`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", g.base+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer sk-"+tok.Key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}
