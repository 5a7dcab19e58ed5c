package replicate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

var _ adaptors.FollowUpper = (*Adaptor)(nil)

func TestFollowUpGolden(t *testing.T) {
	a := New()
	def := adaptors.Channel{Key: "r8_test"}
	proxied := adaptors.Channel{Key: "r8_test", BaseURL: "http://127.0.0.1:8080/"}
	tests := []struct {
		name   string // golden under testdata/followup
		body   string // prediction under testdata/followup or testdata/response
		ch     adaptors.Channel
		stream bool
		step   int
	}{
		{"stream_url", "followup/starting.json", def, true, 1},
		{"stream_url_base_url", "followup/starting.json", proxied, true, 1},
		{"stream_url_old_host", "followup/processing_old_stream_host.json", def, true, 1},
		{"stream_succeeded", "response/chat.json", def, true, 1},
		{"poll_first", "followup/starting.json", def, false, 1},
		{"poll_base_url", "followup/processing_old_stream_host.json", proxied, false, 4},
		{"final", "response/chat.json", def, false, 1},
		{"stream_unsupported", "followup/starting_no_stream.json", def, true, 1},
		{"failed", "response/failed.json", def, false, 3},
		{"failed_stream", "response/failed.json", def, true, 1},
		{"canceled", "response/canceled.json", def, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/"+tt.body)
			next, delay, err := a.FollowUp(&tt.ch, newReq("meta/meta-llama-3-70b-instruct", tt.stream, nil), tt.step, body)
			var got string
			switch {
			case err != nil:
				got = renderError(err)
			case next == nil:
				got = fmt.Sprintf("final (delay %v)\n", delay)
			default:
				got = fmt.Sprintf("after %v:\n%s", delay, renderRequest(next))
			}
			adaptortest.Golden(t, "testdata/followup/"+tt.name+".golden", []byte(got), *update)
		})
	}
}

func TestFollowUpPolling(t *testing.T) {
	a := New()
	ch := &adaptors.Channel{Key: "k"}
	req := newReq("meta/m", false, nil)
	body := adaptortest.ReadFile(t, "testdata/followup/starting.json")
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}
	for i, w := range want {
		next, delay, err := a.FollowUp(ch, req, i+1, body)
		if err != nil || next == nil || delay != w {
			t.Fatalf("step %d: %v %v %v, want delay %v", i+1, next, delay, err, w)
		}
		if next.Method != "GET" || next.URL != "https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu" || len(next.Body) != 0 {
			t.Errorf("step %d: %+v", i+1, next)
		}
	}
	if d := pollDelay(1000); d != pollMax {
		t.Errorf("pollDelay(1000) = %v", d)
	}
}

func TestFollowUpURLs(t *testing.T) {
	a := New()
	pred := func(get string) []byte {
		return []byte(`{"id":"abc123","status":"processing","urls":{"get":"` + get + `"}}`)
	}
	tests := []struct {
		name, body, base, want string // want "" = refused (ErrInvalidResponse)
	}{
		{"api host", string(pred("https://api.replicate.com/v1/predictions/abc123")), "", "https://api.replicate.com/v1/predictions/abc123"},
		{"apex host", string(pred("https://replicate.com/v1/predictions/abc123")), "", "https://replicate.com/v1/predictions/abc123"},
		{"query kept", string(pred("https://api.replicate.com/v1/predictions/abc123?x=1")), "", "https://api.replicate.com/v1/predictions/abc123?x=1"},
		{"foreign host", string(pred("https://evil.example.com/v1/predictions/abc123")), "", ""},
		{"look-alike host", string(pred("https://replicate.com.evil.example/v1/predictions/abc123")), "", ""},
		{"suffix without dot", string(pred("https://notreplicate.com/v1/predictions/abc123")), "", ""},
		{"plain http", string(pred("http://api.replicate.com/v1/predictions/abc123")), "", ""},
		{"user info", string(pred("https://user@api.replicate.com/v1/predictions/abc123")), "", ""},
		{"relative", string(pred("/v1/predictions/abc123")), "", ""},
		{"other scheme", string(pred("ftp://api.replicate.com/x")), "", ""},
		{"unparsable", string(pred("https://api.replicate.com/%zz")), "", ""},
		{"base URL rewrites any origin", string(pred("https://evil.example.com/v1/predictions/abc123")), "http://127.0.0.1:9/", "http://127.0.0.1:9/v1/predictions/abc123"},
		{"base URL with a path", string(pred("https://api.replicate.com/v1/predictions/abc123")), "https://gw.example.com/replicate", "https://gw.example.com/replicate/v1/predictions/abc123"},
		{"no get URL: built from the id", `{"id":"abc123","status":"starting"}`, "", "https://api.replicate.com/v1/predictions/abc123"},
		{"no get URL, base URL", `{"id":"abc123","status":"starting","urls":{}}`, "http://127.0.0.1:9", "http://127.0.0.1:9/v1/predictions/abc123"},
		{"no get URL, bad id", `{"id":"../account","status":"starting"}`, "", ""},
		{"no get URL, no id", `{"status":"starting"}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := &adaptors.Channel{Key: "k", BaseURL: tt.base}
			next, _, err := a.FollowUp(ch, newReq("meta/m", false, nil), 1, []byte(tt.body))
			if tt.want == "" {
				if !errors.Is(err, adaptors.ErrInvalidResponse) {
					t.Errorf("got %v %v, want refused", next, err)
				}
				return
			}
			if err != nil || next.URL != tt.want {
				t.Errorf("got %v %v, want %s", next, err, tt.want)
			}
		})
	}
	// The stream URL is checked the same way.
	body := []byte(`{"id":"abc123","status":"starting","urls":{"stream":"https://attacker.example/steal"}}`)
	if _, _, err := a.FollowUp(&adaptors.Channel{Key: "k"}, newReq("meta/m", true, nil), 1, body); !errors.Is(err, adaptors.ErrInvalidResponse) {
		t.Errorf("foreign stream URL: %v", err)
	}
}

func TestFollowUpInvalid(t *testing.T) {
	a := New()
	ch := &adaptors.Channel{Key: "k"}
	for _, tt := range []struct {
		name, body string
		stream     bool
		step       int
	}{
		{"empty", ``, false, 1},
		{"html", `<html>502</html>`, false, 1},
		{"truncated", `{"id":"x","status":`, false, 1},
		{"no status", `{"id":"x"}`, false, 1},
		{"unknown status", `{"id":"x","status":"queued"}`, true, 1},
		{"stream URL answered JSON", `{"id":"x","status":"succeeded","urls":{"stream":"https://stream.replicate.com/v1/files/x"}}`, true, 2},
	} {
		if _, _, err := a.FollowUp(ch, newReq("meta/m", tt.stream, nil), tt.step, []byte(tt.body)); !errors.Is(err, adaptors.ErrInvalidResponse) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// A model that cannot stream is the client's 400, not an upstream fault.
	_, _, err := a.FollowUp(ch, newReq("replicate/hello-world", true, nil), 1, []byte(`{"id":"x","status":"starting","urls":{"get":"https://api.replicate.com/v1/predictions/x"}}`))
	var se *schema.Error
	if !errors.As(err, &se) || se.Status != 400 || se.Code != "stream_unsupported" || !strings.Contains(se.Message, "replicate/hello-world") {
		t.Errorf("no stream URL: %v", err)
	}
}
