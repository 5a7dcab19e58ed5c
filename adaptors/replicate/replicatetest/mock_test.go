package replicatetest_test

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
	"switchyard/adaptors/replicate"
	"switchyard/adaptors/replicate/replicatetest"
	"switchyard/adaptors/schema"
)

const key = "r8_mockToken0123456789"

// result is what a driven request produced.
type result struct {
	resp   *adaptors.Response
	events []adaptors.StreamEvent
	calls  []string // "METHOD path" of every upstream call
}

// drive runs req against the mock the way the transport does
// (adaptors.FollowUpper): build, call, then for every 2xx answer that is
// not the stream ask FollowUp for the next call, until it says the answer
// is final. Delays are shortened: the mock needs no waiting. strip drops
// a header from the first call.
func drive(t *testing.T, ch *adaptors.Channel, req *adaptors.Request, strip string) (result, error) {
	t.Helper()
	a := replicate.New()
	var res result
	hr, err := a.BuildRequest(ch, req)
	if err != nil {
		return res, err
	}
	for step := 1; step <= 20; step++ {
		hreq, err := http.NewRequest(hr.Method, hr.URL, bytes.NewReader(hr.Body))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hr.Header {
			if step == 1 && strings.EqualFold(h.Key, strip) {
				continue
			}
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
		time.Sleep(min(delay, time.Millisecond))
		hr = next
	}
	t.Fatal("no final answer after 20 steps")
	return res, nil
}

func chatReq(model string, stream bool, body string) *adaptors.Request {
	if body == "" {
		body = `{"model":"` + model + `","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}],"max_tokens":64}`
	}
	return &adaptors.Request{Mode: adaptors.ModeChat, Model: model, OriginModel: model, Body: []byte(body),
		Stream: stream, IncludeUsage: stream, Created: 1721747061}
}

// content returns the assistant text of a chat.completion.
func content(t *testing.T, body []byte) string {
	t.Helper()
	var v struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &v); err != nil || len(v.Choices) != 1 || v.Choices[0].FinishReason != "stop" {
		t.Fatalf("bad chat.completion (%v): %s", err, body)
	}
	return v.Choices[0].Message.Content
}

// streamText joins the delta contents of the chunks and returns the last
// finish_reason.
func streamText(t *testing.T, evs []adaptors.StreamEvent) (text, finish string, textBytes int) {
	t.Helper()
	var b strings.Builder
	for _, ev := range evs {
		if ev.Usage != nil {
			t.Errorf("the stream reports no usage, got %+v", *ev.Usage)
		}
		textBytes += ev.TextBytes
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(ev.Data, &c); err != nil || len(c.Choices) != 1 {
			t.Fatalf("bad chunk (%v): %s", err, ev.Data)
		}
		b.WriteString(c.Choices[0].Delta.Content)
		if c.Choices[0].FinishReason != nil {
			finish = *c.Choices[0].FinishReason
		}
	}
	return b.String(), finish, textBytes
}

func TestMockSync(t *testing.T) {
	s := replicatetest.NewServer(t, key)
	ch := &adaptors.Channel{Key: key, BaseURL: s.URL}
	res, err := drive(t, ch, chatReq("meta/meta-llama-3-70b-instruct", false, ""), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := content(t, res.resp.Body); got != replicatetest.Text {
		t.Errorf("content %q", got)
	}
	if diff := cmp.Diff(s.TextUsage(), *res.resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"POST /v1/models/meta/meta-llama-3-70b-instruct/predictions"}, res.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	_, h, body := s.LastRequest()
	if h.Get("Prefer") != "wait" {
		t.Errorf("Prefer = %q", h.Get("Prefer"))
	}
	var sent struct {
		Input map[string]any `json:"input"`
	}
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"prompt": "Hello!", "system_prompt": "Be brief.", "max_tokens": 64.0}
	if diff := cmp.Diff(want, sent.Input); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
}

// TestMockPoll drops Prefer from the create call, as if sync mode had
// run out of time: the prediction is "starting" and FollowUp polls it.
func TestMockPoll(t *testing.T) {
	s := replicatetest.NewServer(t, key)
	ch := &adaptors.Channel{Key: key, BaseURL: s.URL}
	res, err := drive(t, ch, chatReq("meta/meta-llama-3-8b-instruct", false, ""), "Prefer")
	if err != nil {
		t.Fatal(err)
	}
	if got := content(t, res.resp.Body); got != replicatetest.Text {
		t.Errorf("content %q", got)
	}
	if diff := cmp.Diff(s.TextUsage(), *res.resp.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	id := strings.TrimPrefix(res.calls[1], "GET /v1/predictions/")
	want := []string{
		"POST /v1/models/meta/meta-llama-3-8b-instruct/predictions",
		"GET /v1/predictions/" + id,
		"GET /v1/predictions/" + id,
	}
	if diff := cmp.Diff(want, res.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if len(res.calls) != 1+replicatetest.PollsToFinish || s.Requests() != len(res.calls) {
		t.Errorf("requests %d, calls %d", s.Requests(), len(res.calls))
	}
}

func TestMockStream(t *testing.T) {
	s := replicatetest.NewServer(t, key)
	ch := &adaptors.Channel{Key: key, BaseURL: s.URL}
	res, err := drive(t, ch, chatReq("meta/meta-llama-3-70b-instruct", true, ""), "")
	if err != nil {
		t.Fatal(err)
	}
	text, finish, n := streamText(t, res.events)
	if text != replicatetest.Text || finish != "stop" || n != len(replicatetest.Text) {
		t.Errorf("text %q finish %q bytes %d", text, finish, n)
	}
	if len(res.calls) != 2 || !strings.HasPrefix(res.calls[1], "GET /v1/files/") {
		t.Errorf("calls %v", res.calls)
	}
	_, h, _ := s.LastRequest()
	if h.Get("Accept") != "text/event-stream" || h.Get("Authorization") != "Bearer "+key {
		t.Errorf("stream call headers %v", h)
	}
}

func TestMockVersion(t *testing.T) {
	s := replicatetest.NewServer(t, key)
	ch := &adaptors.Channel{Key: key, BaseURL: s.URL}
	for _, stream := range []bool{false, true} {
		res, err := drive(t, ch, chatReq("meta/meta-llama-3-8b-instruct:"+replicatetest.Version, stream, ""), "")
		if err != nil {
			t.Fatalf("stream=%v: %v", stream, err)
		}
		if res.calls[0] != "POST /v1/predictions" {
			t.Errorf("calls %v", res.calls)
		}
	}
	// An unknown version is Replicate's 422.
	_, err := drive(t, ch, chatReq("meta/meta-llama-3-8b-instruct:0123abc", false, ""), "")
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != 422 || !strings.Contains(se.Message, "does not exist") {
		t.Errorf("unknown version: %v", err)
	}
}

func TestMockErrors(t *testing.T) {
	s := replicatetest.NewServer(t, key)
	for _, k := range []string{"r8_wrong", ""} {
		ch := &adaptors.Channel{Key: k, BaseURL: s.URL}
		_, err := drive(t, ch, chatReq("meta/meta-llama-3-70b-instruct", false, ""), "")
		var se *schema.Error
		if !errors.As(err, &se) || se.Status != 401 || se.Type != "authentication_error" || !strings.Contains(se.Message, "authentication token") {
			t.Errorf("key %q: %v", k, err)
		}
	}
	// Tools never reach the upstream.
	before := s.Requests()
	ch := &adaptors.Channel{Key: key, BaseURL: s.URL}
	body := `{"model":"m","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}`
	_, err := drive(t, ch, chatReq("meta/meta-llama-3-70b-instruct", false, body), "")
	if !errors.Is(err, adaptors.ErrInvalidBody) || s.Requests() != before {
		t.Errorf("tools: %v (requests %d → %d)", err, before, s.Requests())
	}
}
