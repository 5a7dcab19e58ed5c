package mockupstream

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// parseFrames checks the SSE framing of one frame and returns its data.
func frameData(t *testing.T, f []byte) string {
	t.Helper()
	s := string(f)
	if !strings.HasPrefix(s, "data: ") || !strings.HasSuffix(s, "\n\n") {
		t.Fatalf("bad frame %q", s)
	}
	d := s[len("data: ") : len(s)-2]
	if strings.Contains(d, "\n") {
		t.Fatalf("frame data has a newline: %q", d)
	}
	return d
}

type chunk struct {
	Object  string `json:"object"`
	Choices []struct {
		Delta        map[string]any `json:"delta"`
		FinishReason *string        `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

func TestStreamFrames(t *testing.T) {
	for _, usage := range []bool{false, true} {
		for _, n := range []int{1, 2, 20} {
			frames := StreamFrames(n, usage)
			want := n + 1
			if usage {
				want++
			}
			if len(frames) != want {
				t.Fatalf("n=%d usage=%v: %d frames, want %d", n, usage, len(frames), want)
			}
			if d := frameData(t, frames[len(frames)-1]); d != "[DONE]" {
				t.Fatalf("last frame %q, want [DONE]", d)
			}
			for i := 0; i < n; i++ {
				var c chunk
				if err := json.Unmarshal([]byte(frameData(t, frames[i])), &c); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if c.Object != "chat.completion.chunk" || len(c.Choices) != 1 || c.Usage != nil {
					t.Fatalf("frame %d: unexpected %+v", i, c)
				}
				if i == 0 && c.Choices[0].Delta["role"] != "assistant" {
					t.Fatalf("first frame has no role: %s", frames[i])
				}
				last := i == n-1
				if (c.Choices[0].FinishReason != nil) != last {
					t.Fatalf("frame %d finish_reason %v", i, c.Choices[0].FinishReason)
				}
				if usage != bytes.Contains(frames[i], []byte(`"usage":null`)) {
					t.Fatalf("frame %d usage:null presence wrong: %s", i, frames[i])
				}
			}
			if usage {
				var c chunk
				if err := json.Unmarshal([]byte(frameData(t, frames[n])), &c); err != nil {
					t.Fatal(err)
				}
				if len(c.Choices) != 0 || c.Usage == nil {
					t.Fatalf("usage frame: %s", frames[n])
				}
				if c.Usage.CompletionTokens != n || c.Usage.TotalTokens != c.Usage.PromptTokens+n {
					t.Fatalf("usage frame numbers: %+v", *c.Usage)
				}
			}
		}
	}
}

func TestFixedAnswers(t *testing.T) {
	b := ChatCompletion()
	if len(b) < 540 || len(b) > 600 {
		t.Errorf("chat completion is %d bytes, want about 570", len(b))
	}
	var v struct {
		Object string `json:"object"`
		Usage  struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Object != "chat.completion" || v.Usage.TotalTokens != PromptTokens+CompletionTokens {
		t.Errorf("unexpected answer %+v", v)
	}
	for _, b := range [][]byte{Embeddings(), ModelList()} {
		if !json.Valid(b) {
			t.Errorf("invalid JSON %s", b)
		}
	}
}
