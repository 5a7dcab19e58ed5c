package alitest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/ali"
	"switchyard/adaptors/ali/alitest"
	"switchyard/adaptors/schema"
)

const key = "sk-mock0123456789abcdef"

// result is what a driven request produced.
type result struct {
	resp   *adaptors.Response
	events []adaptors.StreamEvent
	calls  []string // "METHOD path" of every upstream call
}

// drive runs req against the mock the way the transport does
// (adaptors.FollowUpper): build, call, then for every 2xx answer that is
// not a stream ask FollowUp for the next call, until it says the answer
// is final. Delays are shortened: the mock needs no waiting.
func drive(t *testing.T, a *ali.Adaptor, ch *adaptors.Channel, req *adaptors.Request) (result, error) {
	t.Helper()
	var res result
	hr, err := a.BuildRequest(ch, req)
	if err != nil {
		return res, err
	}
	for step := 1; step <= 10; step++ {
		hreq, err := http.NewRequest(hr.Method, hr.URL, bytes.NewReader(hr.Body))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hr.Header {
			hreq.Header.Add(h.Key, h.Value)
		}
		res.calls = append(res.calls, hr.Method+" "+hreq.URL.Path)
		hresp, err := http.DefaultClient.Do(hreq)
		if err != nil {
			t.Fatal(err)
		}
		if req.Stream && strings.HasPrefix(hresp.Header.Get("Content-Type"), "text/event-stream") && hresp.StatusCode/100 == 2 {
			res.events, err = adaptortest.Drain(t, a.NewStreamDecoder(req, hresp.Body))
			hresp.Body.Close()
			if err != io.EOF {
				return res, err
			}
			return res, nil
		}
		body, _ := io.ReadAll(hresp.Body)
		hresp.Body.Close()
		if hresp.StatusCode/100 != 2 {
			return res, a.ParseError(hresp.StatusCode, body)
		}
		next, delay, err := a.FollowUp(ch, req, step, body)
		if err != nil {
			return res, err
		}
		if next == nil {
			res.resp, err = a.ParseResponse(req, body)
			return res, err
		}
		if delay <= 0 {
			t.Errorf("step %d: poll without a delay", step)
		}
		time.Sleep(min(delay, time.Millisecond))
		hr = next
	}
	t.Fatal("no final answer after 10 steps")
	return res, nil
}

func chatReq(model string, stream bool, body string) *adaptors.Request {
	if body == "" {
		body = `{"model":"` + model + `","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}],"max_tokens":64}`
	}
	if stream {
		// As the client sent it (the compatible mode forwards the body).
		body = `{"stream":true,` + body[1:]
	}
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: []byte(body),
		Stream: stream, IncludeUsage: stream, Created: 1735113344}
}

const toolBody = `{"model":"qwen-plus","messages":[{"role":"user","content":"What is the weather in Paris?"}],` +
	`"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather",` +
	`"parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}},` +
	`{"type":"function","function":{"name":"get_time"}}]}`

// answer is a chat.completion's first choice.
type answer struct {
	Content          *string        `json:"content"`
	ReasoningContent string         `json:"reasoning_content"`
	ToolCalls        []toolCallJSON `json:"tool_calls"`
	Finish           string
}

type toolCallJSON struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

func decodeAnswer(t *testing.T, body []byte) answer {
	t.Helper()
	var v struct {
		Choices []struct {
			Message      answer `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &v); err != nil || len(v.Choices) != 1 {
		t.Fatalf("bad chat.completion (%v): %s", err, body)
	}
	a := v.Choices[0].Message
	a.Finish = v.Choices[0].FinishReason
	return a
}

// streamed joins a stream's chunks into one answer and returns the last
// usage and whether a usage-only chunk was shown.
func streamed(t *testing.T, evs []adaptors.StreamEvent) (a answer, usage *adaptors.Usage, usageChunk bool, textBytes int) {
	t.Helper()
	var text, thought strings.Builder
	args := map[int]*strings.Builder{}
	for _, ev := range evs {
		textBytes += ev.TextBytes
		if ev.Usage != nil {
			usage = ev.Usage
		}
		if ev.Data == nil {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content          string `json:"content"`
					ReasoningContent string `json:"reasoning_content"`
					ToolCalls        []struct {
						Index    int    `json:"index"`
						ID       string `json:"id"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage json.RawMessage `json:"usage"`
		}
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("bad chunk (%v): %s", err, ev.Data)
		}
		if len(c.Choices) == 0 {
			usageChunk = len(c.Usage) > 0
			continue
		}
		d := c.Choices[0].Delta
		text.WriteString(d.Content)
		thought.WriteString(d.ReasoningContent)
		for _, tc := range d.ToolCalls {
			if tc.ID != "" {
				call := toolCallJSON{ID: tc.ID, Type: "function"}
				call.Function.Name = tc.Function.Name
				a.ToolCalls = append(a.ToolCalls, call)
				args[tc.Index] = &strings.Builder{}
			}
			if b := args[tc.Index]; b != nil {
				b.WriteString(tc.Function.Arguments)
			}
		}
		if f := c.Choices[0].FinishReason; f != nil {
			a.Finish = *f
		}
	}
	for i := range a.ToolCalls {
		if b := args[i]; b != nil {
			a.ToolCalls[i].Function.Arguments = b.String()
		}
	}
	s := text.String()
	a.Content = &s
	a.ReasoningContent = thought.String()
	return a, usage, usageChunk, textBytes
}

func TestMockNativeText(t *testing.T) {
	s := alitest.NewServer(t, key)
	ch := &adaptors.Channel{Type: ali.ChannelType, Key: key, BaseURL: s.URL}
	for _, model := range []string{"qwen-plus", "qwen-vl-max"} {
		res, err := drive(t, ali.New(), ch, chatReq(model, false, ""))
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		a := decodeAnswer(t, res.resp.Body)
		if *a.Content != alitest.Text || a.ReasoningContent != alitest.Thought || a.Finish != "stop" {
			t.Errorf("%s: answer %+v", model, a)
		}
		if diff := cmp.Diff(s.TextUsage(), *res.resp.Usage); diff != "" {
			t.Errorf("%s: usage (-want +got):\n%s", model, diff)
		}
	}
	path, h, body := s.LastRequest()
	if path != "/api/v1/services/aigc/multimodal-generation/generation" || h.Get("Authorization") != "Bearer "+key || h.Get("X-DashScope-SSE") != "" {
		t.Errorf("last request %s %v", path, h)
	}
	if !bytes.Contains(body, []byte(`"content":[{"text":"Hello!"}]`)) {
		t.Errorf("multimodal body %s", body)
	}
}

func TestMockNativeStream(t *testing.T) {
	s := alitest.NewServer(t, key)
	ch := &adaptors.Channel{Type: ali.ChannelType, Key: key, BaseURL: s.URL}
	for _, model := range []string{"qwen-plus", "qwen3-vl-plus"} {
		for _, include := range []bool{true, false} {
			req := chatReq(model, true, "")
			req.IncludeUsage = include
			res, err := drive(t, ali.New(), ch, req)
			if err != nil {
				t.Fatalf("%s: %v", model, err)
			}
			a, usage, shown, n := streamed(t, res.events)
			if *a.Content != alitest.Text || a.ReasoningContent != alitest.Thought || a.Finish != "stop" {
				t.Errorf("%s: answer %+v", model, a)
			}
			if n != len(alitest.Text)+len(alitest.Thought) {
				t.Errorf("%s: text bytes %d", model, n)
			}
			// Usage is cumulative in every event: billed once, the last figures.
			if usage == nil || *usage != s.TextUsage() {
				t.Errorf("%s: usage %+v, want %+v", model, usage, s.TextUsage())
			}
			if shown != include {
				t.Errorf("%s include_usage=%v: usage chunk shown %v", model, include, shown)
			}
		}
	}
	_, h, _ := s.LastRequest()
	if h.Get("X-DashScope-SSE") != "enable" || h.Get("Accept") != "text/event-stream" {
		t.Errorf("stream headers %v", h)
	}
}

func TestMockNativeTool(t *testing.T) {
	s := alitest.NewServer(t, key)
	ch := &adaptors.Channel{Type: ali.ChannelType, Key: key, BaseURL: s.URL}
	for _, stream := range []bool{false, true} {
		res, err := drive(t, ali.New(), ch, chatReq("qwen-plus", stream, toolBody))
		if err != nil {
			t.Fatalf("stream=%v: %v", stream, err)
		}
		var a answer
		var usage *adaptors.Usage
		if stream {
			a, usage, _, _ = streamed(t, res.events)
		} else {
			a, usage = decodeAnswer(t, res.resp.Body), res.resp.Usage
		}
		if a.Finish != "tool_calls" || len(a.ToolCalls) != 1 || a.ToolCalls[0].ID == "" ||
			a.ToolCalls[0].Function.Name != "get_weather" || a.ToolCalls[0].Function.Arguments != alitest.ToolArguments {
			t.Errorf("stream=%v: answer %+v", stream, a)
		}
		if usage == nil || *usage != s.ToolUsage() {
			t.Errorf("stream=%v: usage %+v, want %+v", stream, usage, s.ToolUsage())
		}
	}
	// The tool's answer goes back as a tool message; the mock answers text.
	body := `{"model":"qwen-plus","messages":[{"role":"user","content":"What is the weather in Paris?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"Sunny, 24°C"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"tool_choice":"required"}`
	res, err := drive(t, ali.New(), ch, chatReq("qwen-plus", false, body))
	if err != nil {
		t.Fatal(err)
	}
	if a := decodeAnswer(t, res.resp.Body); *a.Content != alitest.Text {
		t.Errorf("answer after the tool result %+v", a)
	}
}

func TestMockMultimodalImage(t *testing.T) {
	s := alitest.NewServer(t, key)
	ch := &adaptors.Channel{Type: ali.ChannelType, Key: key, BaseURL: s.URL}
	body := `{"model":"qwen-vl-max","messages":[{"role":"user","content":[` +
		`{"type":"text","text":"What is this?"},` +
		`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="}},` +
		`{"type":"image_url","image_url":{"url":"https://example.com/dog.jpeg"}}]}]}`
	for _, stream := range []bool{false, true} {
		res, err := drive(t, ali.New(), ch, chatReq("qwen-vl-max", stream, body))
		if err != nil {
			t.Fatalf("stream=%v: %v", stream, err)
		}
		if res.calls[0] != "POST /api/v1/services/aigc/multimodal-generation/generation" {
			t.Errorf("calls %v", res.calls)
		}
	}
	// An image in a text model's request goes to the multimodal endpoint too.
	if _, err := drive(t, ali.New(), ch, chatReq("qwen-plus", false, body)); err != nil {
		t.Fatal(err)
	}
	if path, _, _ := s.LastRequest(); !strings.Contains(path, "multimodal") {
		t.Errorf("path %s", path)
	}
}

func TestMockEmbeddings(t *testing.T) {
	s := alitest.NewServer(t, key)
	body := `{"model":"text-embedding-v4","input":["a","bb","ccc"],"dimensions":64}`
	for _, ch := range []*adaptors.Channel{
		{Type: ali.ChannelType, Key: key, BaseURL: s.URL},
		{Type: ali.BailianChannelType, Key: key, BaseURL: s.URL},
	} {
		req := &adaptors.Request{Mode: adaptors.ModeEmbeddings, Model: "text-embedding-v4", OriginModel: "text-embedding-v4", Body: []byte(body)}
		res, err := drive(t, ali.New(), ch, req)
		if err != nil {
			t.Fatalf("type %d: %v", ch.Type, err)
		}
		var v struct {
			Data []struct {
				Index     int       `json:"index"`
				Embedding []float64 `json:"embedding"`
			} `json:"data"`
		}
		if err := json.Unmarshal(res.resp.Body, &v); err != nil || len(v.Data) != 3 || len(v.Data[2].Embedding) != 64 || v.Data[2].Index != 2 {
			t.Errorf("type %d: %v %s", ch.Type, err, res.resp.Body)
		}
		if diff := cmp.Diff(s.EmbedUsage(3), *res.resp.Usage); diff != "" {
			t.Errorf("type %d: usage (-want +got):\n%s", ch.Type, diff)
		}
	}
}

// TestMockImageTask drives the asynchronous image task: create (PENDING),
// poll (RUNNING), poll (SUCCEEDED), then the images.
func TestMockImageTask(t *testing.T) {
	s := alitest.NewServer(t, key)
	for _, a := range []*ali.Adaptor{ali.New(), ali.NewBailian()} {
		ch := &adaptors.Channel{Key: key, BaseURL: s.URL}
		req := &adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "wanx-v1", OriginModel: "wanx-v1", Created: 1735113344,
			Body: []byte(`{"model":"wanx-v1","prompt":"A white church under the aurora","n":2,"size":"1024x1024"}`)}
		res, err := drive(t, a, ch, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.calls) != 1+alitest.PollsToFinish || res.calls[0] != "POST /api/v1/services/aigc/text2image/image-synthesis" ||
			!strings.HasPrefix(res.calls[1], "GET /api/v1/tasks/") || res.calls[2] != res.calls[1] {
			t.Errorf("calls %v", res.calls)
		}
		if res.resp.Images != 2 || res.resp.Usage != nil {
			t.Errorf("images %d usage %v", res.resp.Images, res.resp.Usage)
		}
		var v struct {
			Created int64 `json:"created"`
			Data    []struct {
				URL           string `json:"url"`
				RevisedPrompt string `json:"revised_prompt"`
			} `json:"data"`
		}
		if err := json.Unmarshal(res.resp.Body, &v); err != nil || len(v.Data) != 2 || v.Created != 1735113344 ||
			!strings.HasPrefix(v.Data[0].URL, s.URL+"/results/") || v.Data[0].RevisedPrompt == "" {
			t.Fatalf("%v %s", err, res.resp.Body)
		}
		// The result URL serves the image (fetching is the transport's job).
		img, err := http.Get(v.Data[1].URL)
		if err != nil {
			t.Fatal(err)
		}
		png, _ := io.ReadAll(img.Body)
		img.Body.Close()
		if img.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Errorf("result %s %q", img.Header.Get("Content-Type"), png)
		}
	}
	// A task id the upstream does not know is an error, not an answer.
	a := ali.New()
	ch := &adaptors.Channel{Key: key, BaseURL: s.URL}
	req := &adaptors.Request{Mode: adaptors.ModeImagesGenerations, Model: "wanx-v1"}
	hreq, _ := http.NewRequest("GET", s.URL+"/api/v1/tasks/0385dc79-0000", nil)
	hreq.Header.Set("Authorization", "Bearer "+key)
	hresp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hresp.Body)
	hresp.Body.Close()
	_, _, err = a.FollowUp(ch, req, 2, body)
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != http.StatusBadGateway {
		t.Errorf("unknown task: %v", err)
	}
}

func TestMockCompatible(t *testing.T) {
	s := alitest.NewServer(t, key)
	chans := []*adaptors.Channel{
		{Type: ali.BailianChannelType, Key: key, BaseURL: s.URL},
		{Type: ali.ChannelType, Key: key, BaseURL: s.URL + "/compatible-mode/v1", Config: map[string]string{ali.ConfigAPI: "openai"}},
	}
	for _, ch := range chans {
		for _, stream := range []bool{false, true} {
			res, err := drive(t, ali.New(), ch, chatReq("qwen-plus", stream, ""))
			if err != nil {
				t.Fatalf("stream=%v: %v", stream, err)
			}
			if res.calls[0] != "POST /compatible-mode/v1/chat/completions" {
				t.Errorf("calls %v", res.calls)
			}
			var a answer
			var usage *adaptors.Usage
			if stream {
				a, usage, _, _ = streamed(t, res.events)
			} else {
				a, usage = decodeAnswer(t, res.resp.Body), res.resp.Usage
			}
			if *a.Content != alitest.Text || a.Finish != "stop" || usage == nil || *usage != s.TextUsage() {
				t.Errorf("stream=%v: %+v %+v", stream, a, usage)
			}
			res, err = drive(t, ali.New(), ch, chatReq("qwen-plus", stream, toolBody))
			if err != nil {
				t.Fatal(err)
			}
			if stream {
				a, usage, _, _ = streamed(t, res.events)
			} else {
				a, usage = decodeAnswer(t, res.resp.Body), res.resp.Usage
			}
			if a.Finish != "tool_calls" || len(a.ToolCalls) != 1 || a.ToolCalls[0].Function.Arguments != alitest.ToolArguments ||
				usage == nil || *usage != s.ToolUsage() {
				t.Errorf("tool stream=%v: %+v %+v", stream, a, usage)
			}
		}
	}
	// -internet adds enable_search to the compatible body.
	if _, err := drive(t, ali.New(), chans[0], chatReq("qwen-plus-internet", false, "")); err != nil {
		t.Fatal(err)
	}
	if _, _, body := s.LastRequest(); !bytes.HasPrefix(body, []byte(`{"enable_search":true,`)) || !bytes.Contains(body, []byte(`"model":"qwen-plus"`)) {
		t.Errorf("body %s", body)
	}
}

func TestMockErrors(t *testing.T) {
	s := alitest.NewServer(t, key)
	for _, k := range []string{"sk-wrong", ""} {
		for _, ch := range []*adaptors.Channel{
			{Type: ali.ChannelType, Key: k, BaseURL: s.URL},
			{Type: ali.BailianChannelType, Key: k, BaseURL: s.URL},
		} {
			for _, stream := range []bool{false, true} {
				_, err := drive(t, ali.New(), ch, chatReq("qwen-plus", stream, ""))
				var se *schema.Error
				if !errors.As(err, &se) || se.Status != 401 || se.Code != "invalid_api_key" || !strings.Contains(se.Message, "API") {
					t.Errorf("key %q type %d: %v", k, ch.Type, err)
				}
			}
		}
	}
	// The mock refuses what DashScope refuses: a native body that is not
	// the adaptor's (here, OpenAI's) is a 400 with DashScope's body.
	hreq, _ := http.NewRequest("POST", s.URL+"/api/v1/services/aigc/text-generation/generation",
		strings.NewReader(`{"model":"qwen-plus","messages":[{"role":"user","content":"Hi"}]}`))
	hreq.Header.Set("Authorization", "Bearer "+key)
	hresp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hresp.Body)
	hresp.Body.Close()
	se := ali.New().ParseError(hresp.StatusCode, body)
	if se.Status != 400 || se.Type != "invalid_request_error" || !strings.Contains(se.Message, "messages") {
		t.Errorf("validation error %+v", se)
	}
	// A synchronous image call is refused as DashScope does.
	hreq, _ = http.NewRequest("POST", s.URL+"/api/v1/services/aigc/text2image/image-synthesis", strings.NewReader(`{"model":"wanx-v1","input":{"prompt":"p"}}`))
	hreq.Header.Set("Authorization", "Bearer "+key)
	hresp, err = http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(hresp.Body)
	hresp.Body.Close()
	if se := ali.New().ParseError(hresp.StatusCode, body); se.Status != 403 || se.Type != "permission_error" {
		t.Errorf("sync image call %+v", se)
	}
	// Bad image sizes never reach the mock; n out of range does, and fails.
	_, err = drive(t, ali.New(), &adaptors.Channel{Key: key, BaseURL: s.URL}, &adaptors.Request{Mode: adaptors.ModeImagesGenerations,
		Model: "wanx-v1", Body: []byte(`{"prompt":"p","n":9}`)})
	var se2 *schema.Error
	if !errors.As(err, &se2) || se2.Status != 400 {
		t.Errorf("n=9: %v", err)
	}
}
