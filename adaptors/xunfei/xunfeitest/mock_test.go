package xunfeitest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
	"switchyard/adaptors/xunfei"
	"switchyard/adaptors/xunfei/xunfeitest"
)

const (
	appID     = "4CC5779A"
	apiSecret = "MjlmNzkzNmZkMDQ2OTc0ZDdmNGE2ZTZi"
	apiKey    = "apikeyXXXXXXXXXXXXXXXXXXXXXXXXXX"
)

// dial makes the call c describes as the transport does: dial, send the
// frames, read the text frames until the server closes, each followed by
// a newline. A refused upgrade returns its status and body.
func dial(t *testing.T, c *adaptors.SocketCall) (status int, body []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, c.URL, nil)
	if err != nil {
		if resp == nil || resp.StatusCode == http.StatusSwitchingProtocols {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	defer conn.CloseNow()
	for _, f := range c.Frames {
		if err := conn.Write(ctx, websocket.MessageText, f); err != nil {
			t.Fatal(err)
		}
	}
	var all bytes.Buffer
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Fatalf("read: %v", err)
			}
			return http.StatusSwitchingProtocols, all.Bytes()
		}
		if typ == websocket.MessageText {
			all.Write(data)
			all.WriteByte('\n')
		}
	}
}

func chatReq(model, body string, stream bool) *adaptors.Request {
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model,
		Body: []byte(body), Stream: stream, IncludeUsage: true, Created: 1735689600}
}

// call builds req for the mock's channel with the adaptor and makes it.
func call(t *testing.T, s *xunfeitest.Server, ch adaptors.Channel, req *adaptors.Request, now time.Time) (int, []byte) {
	t.Helper()
	c, err := xunfei.New().SocketRequest(&ch, req, now)
	if err != nil {
		t.Fatal(err)
	}
	return dial(t, c)
}

const (
	textBody = `{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}],"temperature":0.5,"max_tokens":128}`
	toolBody = `{"messages":[{"role":"user","content":"What is the weather in Paris?"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]}`
	followUpBody = `{"messages":[{"role":"user","content":"What is the weather in Paris?"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"sunny, 21 C"}],` +
		`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}]}`
)

// answer is what a test reads back from a converted answer.
type answer struct {
	text, tool, args, finish string
	usage                    adaptors.Usage
}

// fromResponse reads a chat.completion.
func fromResponse(t *testing.T, resp *adaptors.Response) answer {
	t.Helper()
	var v struct {
		Choices []struct {
			Message struct {
				Content   *string `json:"content"`
				ToolCalls []struct {
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
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Fatal(err)
	}
	var a answer
	m := v.Choices[0].Message
	if m.Content != nil {
		a.text = *m.Content
	}
	for _, tc := range m.ToolCalls {
		a.tool, a.args = tc.Function.Name, tc.Function.Arguments
	}
	a.finish = v.Choices[0].FinishReason
	if resp.Usage != nil {
		a.usage = *resp.Usage
	}
	return a
}

// fromStream drains a stream and reads it.
func fromStream(t *testing.T, d adaptors.StreamDecoder) answer {
	t.Helper()
	evs, err := adaptortest.Drain(t, d)
	if err != io.EOF {
		t.Fatalf("stream ended with %v", err)
	}
	var a answer
	usageChunks := 0
	for _, ev := range evs {
		if ev.Usage != nil {
			a.usage = *ev.Usage
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *json.RawMessage `json:"usage"`
		}
		if ev.Data == nil {
			continue
		}
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatal(err)
		}
		if c.Usage != nil {
			usageChunks++
		}
		for _, ch := range c.Choices {
			a.text += ch.Delta.Content
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Function.Name != "" {
					a.tool = tc.Function.Name
				}
				a.args += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				a.finish = *ch.FinishReason
			}
		}
	}
	if usageChunks != 1 {
		t.Errorf("%d usage chunks, want 1 (include_usage)", usageChunks)
	}
	return a
}

func TestChat(t *testing.T) {
	s := xunfeitest.NewServer(t, appID, apiSecret, apiKey)
	ch := adaptors.Channel{Key: s.Key(), BaseURL: s.URL}
	a := xunfei.New()
	tests := []struct {
		name, model, body, domain string
		want                      answer
	}{
		{"text", "Spark-Max", textBody, "generalv3.5", answer{text: xunfeitest.MockText, finish: "stop", usage: s.TextUsage()}},
		{"text lite", "Spark-Lite", textBody, "lite", answer{text: xunfeitest.MockText, finish: "stop", usage: s.TextUsage()}},
		{"text max-32k", "Spark-Max-32K", textBody, "max-32k", answer{text: xunfeitest.MockText, finish: "stop", usage: s.TextUsage()}},
		{"tool", "Spark-4.0-Ultra", toolBody, "4.0Ultra", answer{tool: "get_weather", args: xunfeitest.MockArguments, finish: "tool_calls", usage: s.ToolUsage()}},
		{"tool result", "Spark-Pro", followUpBody, "generalv3", answer{text: xunfeitest.MockText, finish: "stop", usage: s.TextUsage()}},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += " stream"
			}
			t.Run(name, func(t *testing.T) {
				req := chatReq(tt.model, tt.body, stream)
				status, body := call(t, s, ch, req, time.Now())
				if status != http.StatusSwitchingProtocols {
					t.Fatalf("refused %d: %s", status, body)
				}
				var got answer
				if stream {
					got = fromStream(t, a.NewStreamDecoder(req, bytes.NewReader(body)))
				} else {
					resp, err := a.ParseResponse(req, body)
					if err != nil {
						t.Fatal(err)
					}
					got = fromResponse(t, resp)
				}
				if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(answer{})); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
				path, _, frame := s.LastRequest()
				var f struct {
					Header struct {
						AppID string `json:"app_id"`
					} `json:"header"`
					Parameter struct {
						Chat struct {
							Domain string `json:"domain"`
						} `json:"chat"`
					} `json:"parameter"`
				}
				if err := json.Unmarshal(frame, &f); err != nil {
					t.Fatal(err)
				}
				if f.Header.AppID != appID || f.Parameter.Chat.Domain != tt.domain || !strings.Contains(path, "authorization=") {
					t.Errorf("last request %s: %s", path, frame)
				}
			})
		}
	}
}

// TestRefusedUpgrade: the mock refuses a bad signature before the
// upgrade, as iFLYTEK's gateway does, and ParseError turns the refusal
// into the client's error.
func TestRefusedUpgrade(t *testing.T) {
	s := xunfeitest.NewServer(t, appID, apiSecret, apiKey)
	req := chatReq("Spark-Max", textBody, true)
	tests := []struct {
		name    string
		key     string
		baseURL string
		now     time.Time
		status  int
		message string
		typ     string
	}{
		{"wrong secret", appID + "|not-the-secret|" + apiKey, s.URL, time.Now(), 401, "HMAC signature does not match", "authentication_error"},
		{"unknown api key", appID + "|" + apiSecret + "|another-key", s.URL, time.Now(), 401, "HMAC signature cannot be verified", "authentication_error"},
		{"stale date", s.Key(), s.URL, time.Now().Add(-6 * time.Minute), 403, "a valid date or x-date header is required", "permission_error"},
		{"future date", s.Key(), s.URL, time.Now().Add(6 * time.Minute), 403, "a valid date or x-date header is required", "permission_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Requests()
			status, body := call(t, s, adaptors.Channel{Key: tt.key, BaseURL: tt.baseURL}, req, tt.now)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			e := xunfei.New().ParseError(status, body)
			if e.Status != tt.status || e.Type != tt.typ || !strings.Contains(e.Message, tt.message) {
				t.Errorf("error %+v", *e)
			}
			if s.Requests() != before+1 {
				t.Errorf("requests %d, want %d", s.Requests(), before+1)
			}
		})
	}

	// A URL signed for another host (the port left out) does not match.
	c, err := xunfei.New().SocketRequest(&adaptors.Channel{Key: s.Key(), BaseURL: s.URL}, req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(s.URL, "ws://")
	c.URL = strings.Replace(c.URL, "host="+strings.Replace(host, ":", "%3A", 1), "host=127.0.0.1", 1)
	if status, body := dial(t, c); status != 401 || !strings.Contains(string(body), "does not match") {
		t.Errorf("host without port: %d %s", status, body)
	}
	// No authorization at all; a path with no route.
	for _, tc := range []struct {
		url, message string
		status       int
	}{
		{s.URL + "/v3.5/chat", "Unauthorized", 401},
		{s.URL + "/v9/chat", "no Route matched", 404},
	} {
		status, body := dial(t, &adaptors.SocketCall{URL: tc.url})
		e := xunfei.New().ParseError(status, body)
		if status != tc.status || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%s: %d %+v", tc.url, status, *e)
		}
	}
}

// TestErrorFrames: a request the mock refuses after the upgrade comes
// back as an error frame, which the adaptor turns into a *schema.Error.
func TestErrorFrames(t *testing.T) {
	s := xunfeitest.NewServer(t, appID, apiSecret, apiKey)
	a := xunfei.New()
	sign := func(model, body string) *adaptors.SocketCall {
		c, err := a.SocketRequest(&adaptors.Channel{Key: s.Key(), BaseURL: s.URL}, chatReq(model, body, false), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	wrongApp := sign("Spark-Max", textBody)
	wrongApp.Frames[0] = bytes.Replace(wrongApp.Frames[0], []byte(appID), []byte("00000000"), 1)
	wrongDomain := sign("Spark-Max", textBody)
	wrongDomain.Frames[0] = bytes.Replace(wrongDomain.Frames[0], []byte(`"generalv3.5"`), []byte(`"lite"`), 1)
	tests := []struct {
		name    string
		call    *adaptors.SocketCall
		status  int
		message string
	}{
		{"app id", wrongApp, 403, "AppIdNoAuthError (xunfei code 11200"},
		{"domain", wrongDomain, 400, "xunfei code 10163"},
		{"temperature", sign("Spark-Max", `{"messages":[{"role":"user","content":"u"}],"temperature":1.5}`), 400, "temperature"},
		{"not json", &adaptors.SocketCall{URL: wrongApp.URL, Frames: [][]byte{[]byte("{")}}, 400, "xunfei code 10003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := dial(t, tt.call)
			if status != http.StatusSwitchingProtocols {
				t.Fatalf("refused %d: %s", status, body)
			}
			_, err := a.ParseResponse(chatReq("Spark-Max", textBody, false), body)
			var se *schema.Error
			if !errors.As(err, &se) || se.Status != tt.status || !strings.Contains(se.Message, tt.message) {
				t.Errorf("got %v", err)
			}
			_, err = adaptortest.Drain(t, a.NewStreamDecoder(chatReq("Spark-Max", textBody, true), bytes.NewReader(body)))
			if !errors.As(err, &se) || se.Status != tt.status {
				t.Errorf("stream: got %v", err)
			}
		})
	}
}
