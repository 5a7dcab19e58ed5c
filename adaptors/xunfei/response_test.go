package xunfei

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func responseRequest() *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: "Spark-Max", OriginModel: "spark-max", Created: 1735689600}
}

// renderResponse prints a converted answer (indented) and its usage, or
// the error.
func renderResponse(t *testing.T, resp *adaptors.Response, err error) []byte {
	t.Helper()
	var b bytes.Buffer
	var se *schema.Error
	switch {
	case errors.As(err, &se):
		fmt.Fprintf(&b, "schema error status=%d %+v\n", se.Status, *se)
		return b.Bytes()
	case err != nil:
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.Bytes()
	}
	b.Write(indent(t, resp.Body))
	if resp.Usage != nil {
		fmt.Fprintf(&b, "usage: %+v\n", *resp.Usage)
	} else {
		b.WriteString("usage: none\n")
	}
	return b.Bytes()
}

func TestParseResponseGolden(t *testing.T) {
	for _, name := range []string{"chat", "single_frame", "tool_call", "x1_reasoning", "error_input_audit", "error_no_license", "error_engine_busy", "truncated"} {
		t.Run(name, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/response/"+name+".ndjson")
			resp, err := New().ParseResponse(responseRequest(), body)
			adaptortest.Golden(t, "testdata/response/"+name+".golden", renderResponse(t, resp, err), *update)
		})
	}
}

// TestParseResponseMatchesStream: the text, tool calls and usage of a
// non-stream answer are what the stream decoder gives for the same
// frames.
func TestParseResponseMatchesStream(t *testing.T) {
	for _, name := range []string{"chat", "tool_call", "x1_reasoning"} {
		body := adaptortest.ReadFile(t, "testdata/stream/"+name+".ndjson")
		evs, err := adaptortest.Drain(t, New().NewStreamDecoder(streamRequest(false), bytes.NewReader(body)))
		if err != io.EOF {
			t.Fatal(err)
		}
		var content, reasoning, calls strings.Builder
		var usage *adaptors.Usage
		for _, ev := range evs {
			if ev.Usage != nil {
				usage = ev.Usage
			}
			var c struct {
				Choices []struct {
					Delta struct {
						Content          string `json:"content"`
						ReasoningContent string `json:"reasoning_content"`
						ToolCalls        []struct {
							ID       string `json:"id"`
							Function struct {
								Name      string `json:"name"`
								Arguments string `json:"arguments"`
							} `json:"function"`
						} `json:"tool_calls"`
					} `json:"delta"`
				} `json:"choices"`
			}
			if ev.Data == nil {
				continue
			}
			if err := json.Unmarshal(ev.Data, &c); err != nil {
				t.Fatal(err)
			}
			for _, ch := range c.Choices {
				content.WriteString(ch.Delta.Content)
				reasoning.WriteString(ch.Delta.ReasoningContent)
				for _, tc := range ch.Delta.ToolCalls {
					calls.WriteString(tc.ID + " " + tc.Function.Name + " " + tc.Function.Arguments + ";")
				}
			}
		}
		resp, err := New().ParseResponse(responseRequest(), body)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Choices []struct {
				Message struct {
					Content          *string `json:"content"`
					ReasoningContent string  `json:"reasoning_content"`
					ToolCalls        []struct {
						ID       string `json:"id"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"message"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(resp.Body, &out); err != nil {
			t.Fatal(err)
		}
		m := out.Choices[0].Message
		var gotCalls strings.Builder
		for _, tc := range m.ToolCalls {
			gotCalls.WriteString(tc.ID + " " + tc.Function.Name + " " + tc.Function.Arguments + ";")
		}
		text := ""
		if m.Content != nil {
			text = *m.Content
		}
		if diff := cmp.Diff([]string{content.String(), reasoning.String(), calls.String()}, []string{text, m.ReasoningContent, gotCalls.String()}); diff != "" {
			t.Errorf("%s (-stream +response):\n%s", name, diff)
		}
		if diff := cmp.Diff(usage, resp.Usage); diff != "" {
			t.Errorf("%s usage (-stream +response):\n%s", name, diff)
		}
	}
}

func TestParseResponseInvalid(t *testing.T) {
	for _, body := range []string{"", "\n\n", "<html><body>502</body></html>", `{"id":"x","choices":[`, `[1,2]`, `{"header":{}} trailing`} {
		_, err := New().ParseResponse(responseRequest(), []byte(body))
		if !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%q: %v, want ErrInvalidResponse", body, err)
		}
	}
	// A body cut after a frame: truncated.
	_, err := New().ParseResponse(responseRequest(), adaptortest.ReadFile(t, "testdata/response/truncated.ndjson"))
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, adaptors.ErrInvalidResponse) {
		t.Errorf("truncated: %v", err)
	}
	// Lines after the last frame are not read.
	body := append(adaptortest.ReadFile(t, "testdata/response/single_frame.ndjson"), "garbage\n"...)
	if _, err := New().ParseResponse(responseRequest(), body); err != nil {
		t.Errorf("trailer after the last frame: %v", err)
	}
}
