package bedrocktest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/bedrock"
)

const (
	accessKey = "AKIAIOSFODNN7EXAMPLE"
	secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	region    = "us-east-1"
	apiKey    = "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlLWtleQ=="
)

// do sends r with net/http and returns the answer.
func do(t *testing.T, r *adaptors.HTTPRequest) *http.Response {
	t.Helper()
	req, err := http.NewRequest(r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.Header {
		req.Header.Set(h.Key, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const (
	helloBody = `{"model":"%s","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}]%s}`
	toolBody  = `{"model":"%s","messages":[{"role":"user","content":"What is the weather in Paris?"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather",` +
		`"parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]%s}`
	// afterToolBody holds a whole tool round trip: the answer must be text.
	afterToolBody = `{"model":"%s","messages":[{"role":"user","content":"What is the weather in Paris?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"18°C and sunny"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]%s}`
)

func request(format, model string, stream bool) *adaptors.Request {
	extra := ""
	if stream {
		extra = `,"stream":true`
	}
	body := strings.Replace(strings.Replace(format, "%s", model, 1), "%s", extra, 1)
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: []byte(body), Stream: stream, IncludeUsage: true, Created: 1755163812}
}

type answer struct {
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
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
}

// chat runs one non-stream call and returns the converted answer.
func chat(t *testing.T, a *bedrock.Adaptor, ch *adaptors.Channel, req *adaptors.Request) (answer, *adaptors.Usage) {
	t.Helper()
	hr, err := a.BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	resp := do(t, hr)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	out, err := a.ParseResponse(req, body)
	if err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var ans answer
	if err := json.Unmarshal(out.Body, &ans); err != nil || len(ans.Choices) != 1 {
		t.Fatalf("client body %s: %v", out.Body, err)
	}
	return ans, out.Usage
}

type streamed struct {
	content, reasoning, args, toolID, toolName, finish string
	usage                                              *adaptors.Usage
	usageChunk                                         bool
}

// chatStream runs one stream call and accumulates the converted chunks.
func chatStream(t *testing.T, a *bedrock.Adaptor, ch *adaptors.Channel, req *adaptors.Request) streamed {
	t.Helper()
	hr, err := a.BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	resp := do(t, hr)
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.amazon.eventstream" {
		t.Errorf("Content-Type %q", ct)
	}
	evs, err := adaptortest.Drain(t, a.NewStreamDecoder(req, resp.Body))
	if err != io.EOF {
		t.Fatalf("stream ended with %v", err)
	}
	var s streamed
	for _, ev := range evs {
		if ev.Usage != nil {
			s.usage = ev.Usage
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
			t.Fatalf("chunk %s: %v", ev.Data, err)
		}
		if len(c.Choices) == 0 && len(c.Usage) > 0 {
			s.usageChunk = true
		}
		for _, ch := range c.Choices {
			s.content += ch.Delta.Content
			s.reasoning += ch.Delta.ReasoningContent
			for _, tc := range ch.Delta.ToolCalls {
				s.toolID += tc.ID
				s.toolName += tc.Function.Name
				s.args += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				s.finish = *ch.FinishReason
			}
		}
	}
	return s
}

func TestMockWithAdaptor(t *testing.T) {
	srv := NewServer(t, accessKey, secretKey, region, WithAPIKey(apiKey))
	a := bedrock.New(bedrock.Options{})
	channels := map[string]adaptors.Channel{
		"sigv4_key":    {Key: accessKey + "|" + secretKey + "|" + region, BaseURL: srv.URL},
		"sigv4_config": {BaseURL: srv.URL, Config: map[string]string{"region": region, "ak": accessKey, "sk": secretKey}},
		"api_key":      {Key: apiKey, BaseURL: srv.URL, Config: map[string]string{"region": region}},
	}
	models := []string{"claude-3-haiku-20240307", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "amazon.nova-lite-v1:0", "meta.llama3-3-70b-instruct-v1:0"}
	for chName, ch := range channels {
		for _, model := range models {
			t.Run(chName+"/"+model, func(t *testing.T) {
				converse := !strings.Contains(bedrock.ModelID(model), "anthropic.claude")

				ans, u := chat(t, a, &ch, request(helloBody, model, false))
				c := ans.Choices[0]
				if c.Message.Content == nil || *c.Message.Content != text || c.FinishReason != "stop" {
					t.Errorf("text answer %+v", c)
				}
				if converse && c.Message.ReasoningContent != strings.Join(reasoningDeltas, "") {
					t.Errorf("reasoning %q", c.Message.ReasoningContent)
				}
				if diff := cmp.Diff(srv.TextUsage(), *u); diff != "" {
					t.Errorf("text usage (-want +got):\n%s", diff)
				}

				s := chatStream(t, a, &ch, request(helloBody, model, true))
				if s.content != text || s.finish != "stop" || !s.usageChunk {
					t.Errorf("text stream %+v", s)
				}
				if converse && s.reasoning != strings.Join(reasoningDeltas, "") {
					t.Errorf("stream reasoning %q", s.reasoning)
				}
				if diff := cmp.Diff(srv.TextUsage(), *s.usage); diff != "" {
					t.Errorf("stream text usage (-want +got):\n%s", diff)
				}

				ans, u = chat(t, a, &ch, request(toolBody, model, false))
				c = ans.Choices[0]
				if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 ||
					c.Message.ToolCalls[0].Function.Name != "get_weather" || c.Message.ToolCalls[0].Function.Arguments != `{"location":"Paris"}` {
					t.Errorf("tool answer %+v", c)
				}
				if diff := cmp.Diff(srv.ToolUsage(), *u); diff != "" {
					t.Errorf("tool usage (-want +got):\n%s", diff)
				}

				s = chatStream(t, a, &ch, request(toolBody, model, true))
				if s.toolName != "get_weather" || s.toolID == "" || s.finish != "tool_calls" {
					t.Errorf("tool stream %+v", s)
				}
				var args map[string]string
				if err := json.Unmarshal([]byte(s.args), &args); err != nil || args["location"] != "Paris" {
					t.Errorf("streamed arguments %q", s.args)
				}
				if diff := cmp.Diff(srv.ToolUsage(), *s.usage); diff != "" {
					t.Errorf("stream tool usage (-want +got):\n%s", diff)
				}

				// A finished tool round trip is answered with text.
				ans, _ = chat(t, a, &ch, request(afterToolBody, model, false))
				if c := ans.Choices[0]; c.Message.Content == nil || *c.Message.Content != text {
					t.Errorf("after tool result %+v", c)
				}
			})
		}
	}
}

func TestMockSessionToken(t *testing.T) {
	srv := NewServer(t, "ASIAEXAMPLE", secretKey, "eu-west-3", WithSessionToken("FwoGZXIvYXdzEBYaDExample//token=="))
	a := bedrock.New(bedrock.Options{})
	ch := adaptors.Channel{Key: "ASIAEXAMPLE|" + secretKey + "|eu-west-3|FwoGZXIvYXdzEBYaDExample//token==", BaseURL: srv.URL}
	if s := chatStream(t, a, &ch, request(helloBody, "amazon.nova-micro-v1:0", true)); s.content != text {
		t.Errorf("stream %+v", s)
	}
	// Without the token the temporary key is refused.
	ch.Key = "ASIAEXAMPLE|" + secretKey + "|eu-west-3"
	checkRefused(t, a, &ch, http.StatusForbidden, "The security token included in the request is invalid.")
}

// checkRefused makes a call that must fail authentication and checks the
// error the adaptor makes of the answer.
func checkRefused(t *testing.T, a *bedrock.Adaptor, ch *adaptors.Channel, status int, msg string) {
	t.Helper()
	req := request(helloBody, "claude-3-haiku-20240307", false)
	hr, err := a.BuildRequest(ch, req)
	if err != nil {
		t.Fatal(err)
	}
	resp := do(t, hr)
	body, _ := io.ReadAll(resp.Body)
	e := a.ParseError(resp.StatusCode, body)
	if resp.StatusCode != status || e.Status != status || e.Message != msg {
		t.Errorf("got %d %s → %+v, want %d %q", resp.StatusCode, body, *e, status, msg)
	}
}

func TestMockRefusesBadCredentials(t *testing.T) {
	srv := NewServer(t, accessKey, secretKey, region, WithAPIKey(apiKey))
	a := bedrock.New(bedrock.Options{})
	checkRefused(t, a, &adaptors.Channel{Key: "AKIAWRONG|" + secretKey + "|" + region, BaseURL: srv.URL},
		http.StatusForbidden, "The security token included in the request is invalid.")
	checkRefused(t, a, &adaptors.Channel{Key: accessKey + "|wrong-secret|" + region, BaseURL: srv.URL},
		http.StatusForbidden, msgBadSignature)
	checkRefused(t, a, &adaptors.Channel{Key: accessKey + "|" + secretKey + "|us-west-2", BaseURL: srv.URL},
		http.StatusForbidden, "Credential should be scoped to a valid region. ")
	checkRefused(t, a, &adaptors.Channel{Key: "ABSK-wrong", BaseURL: srv.URL, Config: map[string]string{"region": region}},
		http.StatusForbidden, msgBadAPIKey)
	// A signature from a skewed clock is refused.
	skewed := bedrock.New(bedrock.Options{Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }})
	req := request(helloBody, "amazon.nova-lite-v1:0", false)
	hr, err := skewed.BuildRequest(&adaptors.Channel{Key: accessKey + "|" + secretKey + "|" + region, BaseURL: srv.URL}, req)
	if err != nil {
		t.Fatal(err)
	}
	resp := do(t, hr)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Signature expired") {
		t.Errorf("skewed clock: %d %s", resp.StatusCode, body)
	}
	// A body changed after signing is refused.
	hr, _ = a.BuildRequest(&adaptors.Channel{Key: accessKey + "|" + secretKey + "|" + region, BaseURL: srv.URL}, req)
	hr.Body = bytes.Replace(hr.Body, []byte("Hello!"), []byte("Hello?"), 1)
	resp = do(t, hr)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "signature we calculated") {
		t.Errorf("tampered body: %d %s", resp.StatusCode, body)
	}
}

func TestMockValidates(t *testing.T) {
	srv := NewServer(t, accessKey, secretKey, region, WithAPIKey(apiKey))
	auth := "Bearer " + apiKey
	tests := []struct {
		path, body, want string
	}{
		{"/model/anthropic.claude-3-haiku-20240307-v1:0/invoke", `{"max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}`, "required key [anthropic_version] not found"},
		{"/model/anthropic.claude-3-haiku-20240307-v1:0/invoke", `{"anthropic_version":"bedrock-2023-05-31","model":"x","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}`, "extraneous key [model] is not permitted"},
		{"/model/anthropic.claude-3-haiku-20240307-v1:0/invoke", `{"anthropic_version":"bedrock-2023-05-31","messages":[{"role":"user","content":"Hi"}]}`, "required key [max_tokens] not found"},
		{"/model/anthropic.claude-3-haiku-20240307-v1:0/invoke", `{"anthropic_version":"bedrock-2023-05-31","max_tokens":10,"messages":[{"role":"user","content":"Hi"},{"role":"user","content":"Hi"}]}`, "roles must alternate"},
		{"/model/amazon.nova-lite-v1:0/converse", `{"messages":[{"role":"assistant","content":[{"text":"Hi"}]}]}`, "must start with a user message"},
		{"/model/amazon.nova-lite-v1:0/converse", `{"messages":[{"role":"user","content":[{"text":"Hi"}]},{"role":"user","content":[{"text":"Hi"}]}]}`, "must alternate between user and assistant"},
		{"/model/amazon.nova-lite-v1:0/converse", `{"messages":[{"role":"user","content":[]}]}`, "is empty"},
		{"/model/amazon.nova-lite-v1:0/converse", `{"messages":[{"role":"user","content":[{"text":"  "}]}]}`, "is blank"},
		{"/model/amazon.nova-lite-v1:0/converse", `{"messages":[{"role":"user","content":[{"text":"Hi"}]},{"role":"assistant","content":[{"toolUse":{"toolUseId":"t1","name":"f","input":{}}}]}]}`, "toolConfig field must be defined"},
		{"/model/amazon.nova-lite-v1:0/converse", `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":0}}`, "inferenceConfig.maxTokens"},
		{"/model/amazon.nova-lite-v1:0/converse", `{"messages":[{"role":"user","content":[{"image":{"format":"bmp","source":{"bytes":"AAAA"}}}]}]}`, "image.format"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("POST", srv.URL+strings.ReplaceAll(tt.path, ":", "%3A"), strings.NewReader(tt.body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tt.want) ||
			!strings.HasPrefix(resp.Header.Get("x-amzn-ErrorType"), "ValidationException") {
			t.Errorf("%s %s: %d %s", tt.path, tt.body, resp.StatusCode, body)
		}
	}
}

func TestMockModelList(t *testing.T) {
	srv := NewServer(t, accessKey, secretKey, region)
	a := bedrock.New(bedrock.Options{})
	ch := adaptors.Channel{Key: accessKey + "|" + secretKey + "|" + region, BaseURL: srv.URL}
	hr, err := a.ModelsRequest(&ch)
	if err != nil {
		t.Fatal(err)
	}
	resp := do(t, hr)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	ids, err := a.ParseModels(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"anthropic.claude-3-haiku-20240307-v1:0", "amazon.nova-lite-v1:0", "meta.llama3-3-70b-instruct-v1:0"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	if srv.Requests() != 1 {
		t.Errorf("requests = %d", srv.Requests())
	}
	if path, _, _ := srv.LastRequest(); path != "/foundation-models" {
		t.Errorf("path %q", path)
	}
}

func TestMockImage(t *testing.T) {
	srv := NewServer(t, accessKey, secretKey, region)
	a := bedrock.New(bedrock.Options{})
	ch := adaptors.Channel{Key: accessKey + "|" + secretKey + "|" + region, BaseURL: srv.URL}
	const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
	for _, model := range []string{"claude-3-5-sonnet-20241022", "amazon.nova-pro-v1:0"} {
		body := `{"model":"` + model + `","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},` +
			`{"type":"image_url","image_url":{"url":"data:image/png;base64,` + png + `"}}]}]}`
		req := &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: []byte(body)}
		if ans, _ := chat(t, a, &ch, req); *ans.Choices[0].Message.Content != text {
			t.Errorf("%s: %+v", model, ans)
		}
		_, _, sent := srv.LastRequest()
		if !bytes.Contains(sent, []byte(png)) {
			t.Errorf("%s: image not sent inline: %s", model, sent)
		}
	}
}
