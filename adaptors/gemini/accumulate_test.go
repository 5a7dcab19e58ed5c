package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"switchyard/adaptors/sse"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// forEachPayload feeds the data payloads of an OpenAI stream capture to
// fn, as the transport would hand them to Chunk ([DONE] excluded). Each
// payload still aliases the reader's buffer, so the tests also prove that
// the encoder copies what it keeps.
func forEachPayload(t testing.TB, path string, fn func([]byte)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := sse.NewReader(bytes.NewReader(b), 0)
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(ev.Data) == "[DONE]" {
			continue
		}
		fn(ev.Data)
	}
}

// renderPayloads prints payloads as an alt=sse stream.
func renderPayloads(ps [][]byte) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "data: %s\n\n", p)
	}
	return b.String()
}

// streamResult is what a client that concatenates a Gemini stream ends
// up with, per candidate.
type streamResult struct {
	Text, Thoughts map[int]string
	Calls          map[int][]callView
	Finish         map[int]string
	Usage          *usageMetadata
	Error          *errorEnvelope
}

type callView struct {
	Name, ID string
	Args     string
}

// accumulate rebuilds a stream and checks its shape: every payload is
// one line of JSON, a GenerateContentResponse with model-role candidates
// (or a final error object); finishReason and usageMetadata come only in
// the last payload, which closes every candidate seen; function call
// arguments are objects.
func accumulate(ps [][]byte) (*streamResult, error) {
	r := &streamResult{Text: map[int]string{}, Thoughts: map[int]string{}, Calls: map[int][]callView{}, Finish: map[int]string{}}
	for i, p := range ps {
		if r.Error != nil || len(r.Finish) > 0 {
			return nil, fmt.Errorf("payload %d after the end", i)
		}
		if bytes.ContainsAny(p, "\r\n") || !json.Valid(p) {
			return nil, fmt.Errorf("payload %d is not one line of json: %q", i, p)
		}
		var resp struct {
			Candidates []struct {
				Content struct {
					Parts []struct {
						Text         *string
						Thought      bool
						FunctionCall *struct {
							Name, ID string
							Args     json.RawMessage
						}
					}
					Role string
				}
				FinishReason string
				Index        int
			}
			UsageMetadata *usageMetadata
			ModelVersion  string
			Error         *errorDetail
		}
		if err := json.Unmarshal(p, &resp); err != nil {
			return nil, err
		}
		if resp.Error != nil {
			if resp.Error.Code == 0 || resp.Error.Message == "" || resp.Error.Status == "" {
				return nil, fmt.Errorf("empty error: %s", p)
			}
			r.Error = &errorEnvelope{Error: *resp.Error}
			continue
		}
		if len(resp.Candidates) == 0 || resp.ModelVersion == "" {
			return nil, fmt.Errorf("payload %d has no candidates or modelVersion: %s", i, p)
		}
		last := i == len(ps)-1
		if resp.UsageMetadata != nil {
			if !last {
				return nil, fmt.Errorf("payload %d: usageMetadata before the end", i)
			}
			r.Usage = resp.UsageMetadata
		}
		for _, c := range resp.Candidates {
			if c.Content.Role != "model" || len(c.Content.Parts) == 0 {
				return nil, fmt.Errorf("payload %d: candidate %d has role %q and %d parts", i, c.Index, c.Content.Role, len(c.Content.Parts))
			}
			for _, part := range c.Content.Parts {
				switch {
				case part.FunctionCall != nil:
					if !last {
						return nil, fmt.Errorf("payload %d: function call before the end", i)
					}
					if len(part.FunctionCall.Args) == 0 || part.FunctionCall.Args[0] != '{' {
						return nil, fmt.Errorf("payload %d: args not an object: %s", i, part.FunctionCall.Args)
					}
					r.Calls[c.Index] = append(r.Calls[c.Index], callView{Name: part.FunctionCall.Name, ID: part.FunctionCall.ID, Args: string(part.FunctionCall.Args)})
				case part.Text != nil && part.Thought:
					r.Thoughts[c.Index] += *part.Text
				case part.Text != nil:
					r.Text[c.Index] += *part.Text
				default:
					return nil, fmt.Errorf("payload %d: empty part", i)
				}
			}
			if c.FinishReason != "" {
				if !last {
					return nil, fmt.Errorf("payload %d: finishReason before the end", i)
				}
				r.Finish[c.Index] = c.FinishReason
			}
		}
		if last {
			for idx := range r.Text {
				if r.Finish[idx] == "" {
					return nil, fmt.Errorf("candidate %d never finished", idx)
				}
			}
		}
	}
	if r.Error == nil && len(r.Finish) == 0 {
		return nil, errors.New("stream did not end with a finishReason or an error")
	}
	return r, nil
}
