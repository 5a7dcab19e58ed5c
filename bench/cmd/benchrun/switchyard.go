package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// envelope is the One API compatible admin answer.
type envelope struct {
	Success bool            `json:"success"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func adminCall(ctx context.Context, method, url, auth string, body any) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("%s %s: HTTP %d, not an envelope: %.300s", method, url, resp.StatusCode, raw)
	}
	if !env.Success {
		return nil, fmt.Errorf("%s %s: HTTP %d, success=false: %s", method, url, resp.StatusCode, env.Message)
	}
	return env.Data, nil
}

// setupSwitchyard creates the mock channel and an unlimited token through
// the admin API and returns the Authorization value for /v1 requests.
func setupSwitchyard(ctx context.Context, base, rootToken string, mockPort int) (string, error) {
	ch := map[string]any{
		"type": 1, "name": "mock", "key": "sk-mock",
		"base_url": fmt.Sprintf("http://127.0.0.1:%d", mockPort),
		"models":   "gpt-4o-mini,text-embedding-3-small",
		"group":    "default", "priority": 0, "weight": 1,
	}
	if _, err := adminCall(ctx, "POST", base+"/api/channel/", rootToken, ch); err != nil {
		return "", fmt.Errorf("create channel: %w", err)
	}
	tok := map[string]any{"name": "bench", "unlimited_quota": true, "expired_time": -1}
	created, err := adminCall(ctx, "POST", base+"/api/token/", rootToken, tok)
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	key := ""
	data, err := adminCall(ctx, "GET", base+"/api/token/?p=0", rootToken, nil)
	if err != nil {
		return "", fmt.Errorf("list tokens: %w", err)
	}
	key = findTokenKey(data, "bench")
	if key == "" { // be lenient: some versions return the key on create
		key = findTokenKey(created, "bench")
	}
	if key == "" {
		return "", fmt.Errorf("no token named bench with a key in GET /api/token/?p=0: %.300s", data)
	}
	if !strings.HasPrefix(key, "sk-") {
		key = "sk-" + key
	}
	return "Bearer " + key, nil
}

// findTokenKey accepts data as an array of tokens, a single token, or an
// object wrapping the array under "items" or "data".
func findTokenKey(data json.RawMessage, name string) string {
	type token struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	}
	var list []token
	if json.Unmarshal(data, &list) != nil {
		var one token
		if json.Unmarshal(data, &one) == nil && one.Key != "" {
			list = []token{one}
		} else {
			var wrap struct {
				Items []token `json:"items"`
				Data  []token `json:"data"`
			}
			if json.Unmarshal(data, &wrap) == nil {
				list = append(wrap.Items, wrap.Data...)
			}
		}
	}
	fallback := ""
	for _, t := range list {
		if t.Key == "" {
			continue
		}
		if t.Name == name {
			return t.Key
		}
		fallback = t.Key
	}
	return fallback
}

// sanityCheck sends one plain and one streamed request through a target,
// retrying for a while (a gateway may apply new config asynchronously).
func sanityCheck(ctx context.Context, url, auth string) error {
	var last error
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if last = sanityOnce(ctx, url, auth); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return last
}

func sanityOnce(ctx context.Context, url, auth string) error {
	bodies := []struct{ body, want string }{
		{`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`, `"chat.completion"`},
		{`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, "data: [DONE]"},
	}
	for _, b := range bodies {
		req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(b.body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return err
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(raw), b.want) {
			return fmt.Errorf("sanity request to %s: HTTP %d: %.300s", url, resp.StatusCode, raw)
		}
	}
	return nil
}
