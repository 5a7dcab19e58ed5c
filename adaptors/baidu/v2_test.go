package baidu

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
)

func TestSplitV2Key(t *testing.T) {
	for key, want := range map[string][2]string{
		"bce-v3/ALTAK-x/y":                {"bce-v3/ALTAK-x/y", ""},
		" bce-v3/ALTAK-x/y | app-Rb8JFN ": {"bce-v3/ALTAK-x/y", "app-Rb8JFN"},
		"token|":                          {"token", ""},
	} {
		k, app := SplitV2Key(key)
		if diff := cmp.Diff(want, [2]string{k, app}); diff != "" {
			t.Errorf("%q (-want +got):\n%s", key, diff)
		}
	}
}

func TestV2Request(t *testing.T) {
	body := []byte(`{"model":"ernie-4.0-turbo-8k","messages":[{"role":"user","content":"Hello!"}]}`)
	tests := []struct {
		name, key, base, wantURL string
		mode                     adaptors.Mode
		appid                    string
	}{
		{"default", "k", "", "https://qianfan.baidubce.com/v2/chat/completions", adaptors.ModeChat, ""},
		{"appid", "k|app-1", "", "https://qianfan.baidubce.com/v2/chat/completions", adaptors.ModeChat, "app-1"},
		{"base URL with /v2", "k", "https://qianfan.baidubce.com/v2/", "https://qianfan.baidubce.com/v2/chat/completions", adaptors.ModeChat, ""},
		{"proxy", "k", "http://127.0.0.1:9000", "http://127.0.0.1:9000/v2/embeddings", adaptors.ModeEmbeddings, ""},
		{"rerank", "k", "", "https://qianfan.baidubce.com/v2/rerank", adaptors.ModeRerank, ""},
		{"images", "k", "", "https://qianfan.baidubce.com/v2/images/generations", adaptors.ModeImagesGenerations, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := adaptors.Channel{Key: tt.key, BaseURL: tt.base}
			r, err := NewV2().BuildRequest(&ch, &adaptors.Request{Mode: tt.mode, Model: "ernie-4.0-turbo-8k", OriginModel: "ernie-4.0-turbo-8k", Body: body})
			if err != nil {
				t.Fatal(err)
			}
			head := string(renderHead(r))
			if r.URL != tt.wantURL || !strings.Contains(head, "Authorization: Bearer k\n") {
				t.Errorf("got\n%s", head)
			}
			if got := strings.Contains(head, "appid: "+tt.appid+"\n"); got != (tt.appid != "") {
				t.Errorf("appid header present=%v, want %q:\n%s", got, tt.appid, head)
			}
		})
	}
	ch := adaptors.Channel{Key: " |app-1"}
	if _, err := NewV2().BuildRequest(&ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: "m", Body: body}); err == nil {
		t.Error("a key without API Key was accepted")
	}
	if _, err := NewV2().BuildRequest(&adaptors.Channel{Key: "k"}, &adaptors.Request{Mode: adaptors.ModeModerations, Model: "m", Body: body}); err == nil {
		t.Error("moderations accepted")
	}
}

// TestV2Errors: Qianfan v2's error envelope reaches the client with its
// code and type.
func TestV2Errors(t *testing.T) {
	e := NewV2().ParseError(http.StatusBadRequest, []byte(`{"error":{"code":"malformed_json","message":"Invalid Argument","type":"invalid_request_error"},"id":"as-t2z8xi6mm8"}`))
	if e.Status != 400 || e.Message != "Invalid Argument" || e.Type != "invalid_request_error" || e.Code != "malformed_json" {
		t.Errorf("got %+v", *e)
	}
	e = NewV2().ParseError(http.StatusTooManyRequests, []byte(`{"error":{"code":"rpm_rate_limit_exceeded","message":"Rate limit reached for RPM","type":"rate_limit_exceeded"},"id":"as-1"}`))
	if e.Status != 429 || e.Message != "Rate limit reached for RPM" {
		t.Errorf("got %+v", *e)
	}
}
