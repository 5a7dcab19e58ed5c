package openaicompat

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/openai"
	"switchyard/adaptors/schema"
)

func TestAddThoughts(t *testing.T) {
	tests := []struct {
		name     string
		in, want adaptors.Usage
	}{
		{"no thinking", adaptors.Usage{PromptTokens: 46, CompletionTokens: 22, TotalTokens: 68},
			adaptors.Usage{PromptTokens: 46, CompletionTokens: 22, TotalTokens: 68}},
		{"thinking left out of completion", adaptors.Usage{PromptTokens: 9, CompletionTokens: 1, TotalTokens: 103},
			adaptors.Usage{PromptTokens: 9, CompletionTokens: 94, TotalTokens: 103, ReasoningTokens: 93}},
		{"reasoning reported, completion without it", adaptors.Usage{PromptTokens: 9, CompletionTokens: 1, TotalTokens: 103, ReasoningTokens: 93},
			adaptors.Usage{PromptTokens: 9, CompletionTokens: 94, TotalTokens: 103, ReasoningTokens: 93}},
		{"already OpenAI's semantics", adaptors.Usage{PromptTokens: 9, CompletionTokens: 94, TotalTokens: 103, ReasoningTokens: 93},
			adaptors.Usage{PromptTokens: 9, CompletionTokens: 94, TotalTokens: 103, ReasoningTokens: 93}},
		{"total smaller than the sum", adaptors.Usage{PromptTokens: 9, CompletionTokens: 10, TotalTokens: 12},
			adaptors.Usage{PromptTokens: 9, CompletionTokens: 10, TotalTokens: 12}},
	}
	for _, tt := range tests {
		u := tt.in
		addThoughts(&u)
		if diff := cmp.Diff(tt.want, u); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestGeminiStreamUsageIsFinalNotSum: Gemini reports cumulative usage on
// every chunk. The gateway keeps the last report (transport: usage =
// ev.Usage), which must be the final figures; summing the reports would
// bill several times over.
func TestGeminiStreamUsageIsFinalNotSum(t *testing.T) {
	v := vendor(t, TypeGeminiOpenAICompatible)
	for _, include := range []bool{false, true} {
		req := chatReq(v, false, true)
		req.IncludeUsage = include
		evs, err := adaptortest.Drain(t, v.New().NewStreamDecoder(req, bytes.NewReader(adaptortest.ReadFile(t, "testdata/stream/gemini.sse"))))
		if err != io.EOF {
			t.Fatal(err)
		}
		final := adaptors.Usage{PromptTokens: 9, CompletionTokens: 102, TotalTokens: 111, ReasoningTokens: 93}
		var last *adaptors.Usage
		sum, reports := 0, 0
		for _, ev := range evs {
			if ev.Usage != nil {
				last = ev.Usage
				sum += ev.Usage.TotalTokens
				reports++
			}
		}
		if reports < 3 {
			t.Fatalf("want a usage report per upstream chunk, got %d", reports)
		}
		if diff := cmp.Diff(final, *last); diff != "" {
			t.Errorf("include=%v: last usage (-want +got):\n%s", include, diff)
		}
		if sum == final.TotalTokens {
			t.Errorf("fixture does not tell a sum from the last value")
		}
		// The client who asked sees OpenAI's usage-only chunk with the final
		// figures, once.
		shown := 0
		for _, ev := range evs {
			var c struct {
				Choices []json.RawMessage `json:"choices"`
				Usage   *schema.Usage     `json:"usage"`
			}
			if ev.Data != nil && json.Unmarshal(ev.Data, &c) == nil && c.Choices != nil && len(c.Choices) == 0 && c.Usage != nil {
				shown++
				if c.Usage.TotalTokens != 111 || c.Usage.CompletionTokens != 102 || c.Usage.CompletionTokensDetails.ReasoningTokens != 93 {
					t.Errorf("usage chunk %s", ev.Data)
				}
			}
		}
		if want := map[bool]int{false: 0, true: 1}[include]; shown != want {
			t.Errorf("include=%v: %d usage chunks shown, want %d", include, shown, want)
		}
	}
}

// TestMoonshotChoiceUsage: Moonshot puts stream usage in the finishing
// choice. The plain openai adaptor does not see it (the reason for the
// quirk); the row does.
func TestMoonshotChoiceUsage(t *testing.T) {
	v := vendor(t, TypeMoonshot)
	stream := adaptortest.ReadFile(t, "testdata/stream/moonshot_tool.sse")
	lastUsage := func(a adaptors.Adaptor) *adaptors.Usage {
		evs, err := adaptortest.Drain(t, a.NewStreamDecoder(chatReq(v, true, true), bytes.NewReader(stream)))
		if err != io.EOF {
			t.Fatal(err)
		}
		var last *adaptors.Usage
		for _, ev := range evs {
			if ev.Usage != nil {
				last = ev.Usage
			}
		}
		return last
	}
	if u := lastUsage(openai.New(v.Config)); u != nil {
		t.Errorf("plain openai adaptor now reads choice usage (%+v): the quirk may be dropped", *u)
	}
	want := adaptors.Usage{PromptTokens: 72, CompletionTokens: 21, TotalTokens: 93, CachedTokens: 64}
	if diff := cmp.Diff(&want, lastUsage(v.New())); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}

// TestMiniMaxBaseRespStatus: MiniMax's errors arrive with HTTP 200 in
// base_resp, whole answers or in place of a stream; each gets the HTTP
// status its code means and is never an answer.
func TestMiniMaxBaseRespStatus(t *testing.T) {
	a := vendor(t, TypeMiniMax).New()
	tests := []struct {
		code       int
		wantStatus int
		wantType   string
	}{
		{1002, 429, "rate_limit_error"},
		{1004, 401, "authentication_error"},
		{1008, 402, "insufficient_quota"},
		{1026, 400, "invalid_request_error"},
		{2013, 400, "invalid_request_error"},
		{2049, 401, "authentication_error"},
		{1000, 502, "upstream_error"},
		{1024, 502, "upstream_error"},
	}
	for _, tt := range tests {
		body := []byte(`{"base_resp":{"status_code":` + itoa(tt.code) + `,"status_msg":"m` + itoa(tt.code) + `"}}`)
		for _, stream := range []bool{false, true} {
			var err error
			if stream {
				_, err = adaptortest.Drain(t, a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true}, bytes.NewReader(body)))
			} else {
				_, err = a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, body)
			}
			var se *schema.Error
			if !errors.As(err, &se) {
				t.Fatalf("code %d stream=%v: %v", tt.code, stream, err)
			}
			if se.Status != tt.wantStatus || se.Type != tt.wantType || se.Code != tt.code || se.Message != "m"+itoa(tt.code) {
				t.Errorf("code %d stream=%v: %+v", tt.code, stream, *se)
			}
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestMiniMaxStreamEndsAtBaseResp: MiniMax sends no [DONE]; its chunk
// with base_resp is the last, and nothing after it reaches the client.
func TestMiniMaxStreamEndsAtBaseResp(t *testing.T) {
	a := vendor(t, TypeMiniMax).New()
	body := append(adaptortest.ReadFile(t, "testdata/stream/minimax.sse"), "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"LEAK\"}}]}\n\n"...)
	evs, err := adaptortest.Drain(t, a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true, IncludeUsage: true}, bytes.NewReader(body)))
	if err != io.EOF {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if bytes.Contains(ev.Data, []byte("LEAK")) {
			t.Errorf("data after base_resp relayed: %s", ev.Data)
		}
	}
}

// TestSparkInBandErrors: Spark's nonzero code, in a 200 answer, a chunk,
// or a JSON answer sent in place of a stream, is an error with the status
// its code means; never an answer.
func TestSparkInBandErrors(t *testing.T) {
	a := vendor(t, TypeXunfeiV2).New()
	tests := []struct {
		body       string
		wantStatus int
	}{
		{`{"code":10013,"message":"Input content audit failed","sid":"cha1"}`, 400},
		{`{"code":11200,"message":"AppIdNoAuthError","sid":"cha2"}`, 403},
		{`{"code":11202,"message":"qps limit","sid":"cha3"}`, 429},
		{`{"code":10110,"message":"busy","sid":"cha4"}`, 503},
		{`{"code":10012,"message":"engine error","sid":"cha5"}`, 502},
	}
	for _, tt := range tests {
		var code struct {
			Code int `json:"code"`
		}
		_ = json.Unmarshal([]byte(tt.body), &code)
		_, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, []byte(tt.body))
		_, serr := adaptortest.Drain(t, a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true}, strings.NewReader(tt.body)))
		_, cerr := adaptortest.Drain(t, a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true}, strings.NewReader("data:"+tt.body+"\n\ndata:[DONE]\n\n")))
		for i, e := range []error{err, serr, cerr} {
			var se *schema.Error
			if !errors.As(e, &se) || se.Status != tt.wantStatus || se.Code != code.Code || se.Message == "" {
				t.Errorf("%s (%d): %v", tt.body, i, e)
			}
		}
	}
	// code 0 is success.
	if _, err := a.ParseResponse(&adaptors.Request{Mode: adaptors.ModeChat}, adaptortest.ReadFile(t, "testdata/response/xunfei.json")); err != nil {
		t.Error(err)
	}
}

// TestJSONInPlaceOfStream: a JSON object where a stream was expected that
// carries no error is an invalid response, not an empty success.
func TestJSONInPlaceOfStream(t *testing.T) {
	a := vendor(t, TypeMiniMax).New()
	_, err := adaptortest.Drain(t, a.NewStreamDecoder(&adaptors.Request{Mode: adaptors.ModeChat, Stream: true},
		bytes.NewReader(adaptortest.ReadFile(t, "testdata/response/minimax.json"))))
	if !errors.Is(err, adaptors.ErrInvalidResponse) {
		t.Errorf("got %v", err)
	}
}

// TestToolCallRepair covers the shapes of tool-call deltas the repair
// meets: Gemini's index-less calls (one per chunk, several in one chunk,
// arguments split over index-less deltas), Spark's object form, and
// well-formed deltas left untouched.
func TestToolCallRepair(t *testing.T) {
	type call struct {
		Index    int    `json:"index"`
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	}
	tests := []struct {
		name       string
		typ        int
		chunks     []string
		wantCalls  []call // merged per index
		wantFinish string
	}{
		{
			name: "two index-less calls in one chunk, finish stop",
			typ:  TypeGeminiOpenAICompatible,
			chunks: []string{
				`{"choices":[{"delta":{"role":"assistant","tool_calls":[{"function":{"arguments":"{\"location\":\"Paris\"}","name":"get_weather"},"id":"","type":"function"},{"function":{"arguments":"{\"city\":\"Paris\"}","name":"get_time"},"id":"","type":"function"}]},"index":0}],"id":"g1","model":"gemini-2.5-flash","object":"chat.completion.chunk"}`,
				`{"choices":[{"delta":{"role":"assistant"},"finish_reason":"stop","index":0}],"id":"g1","model":"gemini-2.5-flash","object":"chat.completion.chunk"}`,
			},
			wantCalls: []call{
				{Index: 0, ID: "call_g1_0", Type: "function", Function: struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				}{"get_weather", `{"location":"Paris"}`}},
				{Index: 1, ID: "call_g1_1", Type: "function", Function: struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				}{"get_time", `{"city":"Paris"}`}},
			},
			wantFinish: "tool_calls",
		},
		{
			name: "arguments split over index-less deltas",
			typ:  TypeGeminiOpenAICompatible,
			chunks: []string{
				`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\"loca","name":"get_weather"},"id":"function-call-1","type":"function"}]},"index":0}],"id":"g2"}`,
				`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"tion\":\"Paris\"}"}}]},"index":0}],"id":"g2"}`,
				`{"choices":[{"delta":{},"finish_reason":"tool_calls","index":0}],"id":"g2"}`,
			},
			wantCalls: []call{{Index: 0, ID: "function-call-1", Type: "function", Function: struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			}{"get_weather", `{"location":"Paris"}`}}},
			wantFinish: "tool_calls",
		},
		{
			name: "object form, no finish reason",
			typ:  TypeXunfeiV2,
			chunks: []string{
				`{"code":0,"message":"Success","sid":"s1","id":"s1","created":1,"choices":[{"delta":{"role":"assistant","content":"","tool_calls":{"type":"function","function":{"arguments":"{\"location\":\"Paris\"}","name":"get_weather"}}},"index":0}]}`,
			},
			wantCalls: []call{{Index: 0, ID: "call_s1_0", Type: "function", Function: struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			}{"get_weather", `{"location":"Paris"}`}}},
			wantFinish: "tool_calls",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body strings.Builder
			for _, c := range tt.chunks {
				body.WriteString("data: " + c + "\n\n")
			}
			body.WriteString("data: [DONE]\n\n")
			v := vendor(t, tt.typ)
			evs, err := adaptortest.Drain(t, v.New().NewStreamDecoder(chatReq(v, true, true), strings.NewReader(body.String())))
			if err != io.EOF {
				t.Fatal(err)
			}
			var calls []call
			finish := ""
			for _, ev := range evs {
				var c struct {
					Choices []struct {
						Delta struct {
							ToolCalls []call `json:"tool_calls"`
						} `json:"delta"`
						FinishReason *string `json:"finish_reason"`
					} `json:"choices"`
				}
				if ev.Data == nil {
					continue
				}
				if err := json.Unmarshal(ev.Data, &c); err != nil {
					t.Fatalf("%v: %s", err, ev.Data)
				}
				for _, ch := range c.Choices {
					if ch.FinishReason != nil {
						finish = *ch.FinishReason
					}
					for _, tc := range ch.Delta.ToolCalls {
						if tc.Index == len(calls) {
							calls = append(calls, tc)
							continue
						}
						if tc.Index > len(calls) || tc.ID != "" && tc.ID != calls[tc.Index].ID {
							t.Fatalf("bad delta %+v after %+v", tc, calls)
						}
						calls[tc.Index].Function.Arguments += tc.Function.Arguments
					}
				}
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if finish != tt.wantFinish {
				t.Errorf("finish %q, want %q", finish, tt.wantFinish)
			}
		})
	}
}

// TestWellFormedChunksUntouched: chunks that keep OpenAI's contract are
// relayed byte for byte by the quirky rows.
func TestWellFormedChunksUntouched(t *testing.T) {
	stream := adaptortest.OpenAIDialect().ToolStream
	for _, typ := range []int{TypeGeminiOpenAICompatible, TypeXunfeiV2, TypeMoonshot, TypeMiniMax} {
		v := vendor(t, typ)
		got, err := adaptortest.Drain(t, v.New().NewStreamDecoder(chatReq(v, true, true), bytes.NewReader(stream)))
		if err != io.EOF {
			t.Fatal(err)
		}
		want, _ := adaptortest.Drain(t, openai.New(v.Config).NewStreamDecoder(chatReq(v, true, true), bytes.NewReader(stream)))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-openai +row):\n%s", v.Name, diff)
		}
	}
}

// TestSparkCompletionRepair: Spark's answers lack id, object, model and
// finish_reason; the client gets them filled in.
func TestSparkCompletionRepair(t *testing.T) {
	v := vendor(t, TypeXunfeiV2)
	req := chatReq(v, false, false)
	req.OriginModel = "spark-lite"
	resp, err := v.New().ParseResponse(req, adaptortest.ReadFile(t, "testdata/response/xunfei.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(resp.Body, &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "cha000b0003@dx1905cd86d6bb86d552" || c.Object != "chat.completion" || c.Created != req.Created || c.Model != "spark-lite" ||
		len(c.Choices) != 1 || c.Choices[0].FinishReason != "stop" {
		t.Errorf("%+v", c)
	}
}

// TestGeminiErrorKinds: Google's array-wrapped envelopes map to OpenAI
// types; other bodies are read as the openai adaptor reads them.
func TestGeminiErrorKinds(t *testing.T) {
	a := vendor(t, TypeGeminiOpenAICompatible).New()
	tests := []struct {
		status   int
		body     string
		wantType string
		wantCode any
		wantMsg  string
	}{
		{400, `[{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}]`,
			"authentication_error", "invalid_api_key", "API key not valid"},
		{400, `[{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}]`,
			"invalid_request_error", "INVALID_ARGUMENT", "Invalid JSON payload"},
		{404, `{"error":{"code":404,"message":"models/gemini-9 is not found","status":"NOT_FOUND"}}`,
			"not_found_error", "NOT_FOUND", "is not found"},
		{503, `[{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}]`,
			"server_error", "UNAVAILABLE", "overloaded"},
		{500, `[]`, "upstream_error", "bad_response_status_code", "bad response status code 500"},
		{502, `<html>bad gateway</html>`, "upstream_error", "bad_response_status_code", "bad response status code 502"},
	}
	for _, tt := range tests {
		e := a.ParseError(tt.status, []byte(tt.body))
		if e.Status != tt.status || e.Type != tt.wantType || e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantMsg) {
			t.Errorf("%s: %+v", tt.body, *e)
		}
	}
}
