package replicate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
	"switchyard/adaptors/schema"
)

func TestParseResponseGolden(t *testing.T) {
	a := New()
	for _, name := range []string{"chat", "string_output", "null_output", "failed", "canceled", "processing"} {
		t.Run(name, func(t *testing.T) {
			body := adaptortest.ReadFile(t, "testdata/response/"+name+".json")
			resp, err := a.ParseResponse(newReq("meta/meta-llama-3.1-405b-instruct", false, nil), body)
			var got string
			if err != nil {
				got = renderError(err)
			} else {
				if !json.Valid(resp.Body) {
					t.Fatalf("client body is not JSON: %s", resp.Body)
				}
				got = renderUsage(resp.Usage) + "\n" + string(indent(resp.Body))
			}
			adaptortest.Golden(t, "testdata/response/"+name+".golden", []byte(got), *update)
		})
	}
}

// TestParseResponseErrors: what is not a finished prediction is never an
// answer.
func TestParseResponseErrors(t *testing.T) {
	a := New()
	req := newReq("meta/m", false, nil)
	tests := []struct {
		name, body string
		invalid    bool   // adaptors.ErrInvalidResponse
		code       string // else a *schema.Error with this code
	}{
		{"empty", ``, true, ""},
		{"html", `<html><body>502</body></html>`, true, ""},
		{"truncated", `{"id":"x","status":"succeeded","output":[`, true, ""},
		{"array", `["Hello"]`, true, ""},
		{"no status", `{"id":"x","output":"hi"}`, true, ""},
		{"starting", `{"id":"x","status":"starting"}`, true, ""},
		{"unknown status", `{"id":"x","status":"queued"}`, true, ""},
		{"bad output string", `{"id":"x","status":"succeeded","output":"\ud800"}`, false, ""},
		{"failed without error text", `{"id":"x","status":"failed","error":null}`, false, "prediction_failed"},
		{"failed with object error", `{"id":"x","status":"failed","error":{"detail":"boom"}}`, false, "prediction_failed"},
		{"canceled", `{"id":"x","status":"canceled"}`, false, "prediction_canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.ParseResponse(req, []byte(tt.body))
			var se *schema.Error
			switch {
			case tt.invalid:
				if !errors.Is(err, adaptors.ErrInvalidResponse) {
					t.Errorf("err = %v, want ErrInvalidResponse", err)
				}
			case tt.code != "":
				if !errors.As(err, &se) || se.Code != tt.code || se.Status != 500 || se.Message == "" {
					t.Errorf("err = %#v, want code %s", err, tt.code)
				}
			default:
				if err != nil {
					t.Errorf("err = %v", err)
				}
			}
		})
	}
}

func TestOutputText(t *testing.T) {
	tests := []struct{ raw, want string }{
		{``, ""},
		{`null`, ""},
		{`"hello"`, "hello"},
		{`["Hel","lo"," ","w\u00f6rld"]`, "Hello wörld"},
		{`["a",null,"b"]`, "ab"},
		{`["a",1,{"k":"v"}]`, `a1{"k":"v"}`},
		{`{"text":"x"}`, `{"text":"x"}`},
		{`42`, "42"},
		{`[]`, ""},
	}
	for _, tt := range tests {
		got, err := outputText([]byte(tt.raw))
		if err != nil || got != tt.want {
			t.Errorf("outputText(%s) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
	if _, err := outputText([]byte(`["a",`)); !errors.Is(err, adaptors.ErrInvalidResponse) {
		t.Errorf("truncated array: %v", err)
	}
}

func TestUsageFromMetrics(t *testing.T) {
	tests := []struct {
		metrics string
		want    *adaptors.Usage
	}{
		{`{"predict_time":1.2}`, nil},
		{`{}`, nil},
		{`null`, nil},
		{`{"input_token_count":0,"output_token_count":0}`, nil},
		{`{"input_token_count":26,"output_token_count":84}`, &adaptors.Usage{PromptTokens: 26, CompletionTokens: 84, TotalTokens: 110}},
		{`{"input_token_count":26}`, &adaptors.Usage{PromptTokens: 26, TotalTokens: 26}},
		{`{"output_token_count":12.0}`, &adaptors.Usage{CompletionTokens: 12, TotalTokens: 12}},
		{`{"input_token_count":-5,"output_token_count":3}`, &adaptors.Usage{CompletionTokens: 3, TotalTokens: 3}},
		{`{"input_token_count":"26","output_token_count":4}`, &adaptors.Usage{CompletionTokens: 4, TotalTokens: 4}},
	}
	for _, tt := range tests {
		p, err := decodePrediction([]byte(`{"id":"x","status":"succeeded","metrics":` + tt.metrics + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, p.usage()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.metrics, diff)
		}
	}
}

func TestCreated(t *testing.T) {
	a := New()
	for _, tt := range []struct {
		created string
		want    int64
	}{
		{`"2024-07-23T15:04:21.227000Z"`, 1721747061},
		{`"2023-09-08T16:19:34.765994657Z"`, 1694189974},
		{`"2024-07-23T17:04:21+02:00"`, 1721747061},
		{`"yesterday"`, 42},
		{`null`, 42},
	} {
		req := newReq("meta/m", false, nil)
		req.Created = 42
		resp, err := a.ParseResponse(req, []byte(`{"id":"p1","status":"succeeded","output":"x","created_at":`+tt.created+`}`))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			ID      string `json:"id"`
			Created int64  `json:"created"`
			Model   string `json:"model"`
		}
		if err := json.Unmarshal(resp.Body, &v); err != nil || v.Created != tt.want || v.ID != "p1" || v.Model != "meta/m" {
			t.Errorf("created_at %s: %+v %v, want created %d", tt.created, v, err, tt.want)
		}
	}
}

// TestResponseModelIsOrigin: the client sees the model it asked for.
func TestResponseModelIsOrigin(t *testing.T) {
	req := newReq("meta/meta-llama-3-70b-instruct", false, nil)
	req.OriginModel = "llama-3-70b"
	resp, err := New().ParseResponse(req, adaptortest.ReadFile(t, "testdata/response/chat.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), `"model":"llama-3-70b"`) {
		t.Errorf("body %s", resp.Body)
	}
}
