package bedrock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
)

// signingTime is the fixed clock of the signing tests.
var signingTime = time.Date(2025, 8, 14, 9, 30, 12, 0, time.UTC)

func fixedClock() time.Time { return signingTime }

// sdkSign signs a copy of r (its headers minus the ones a signature adds)
// with the AWS SDK's v4 signer and returns the headers it set.
func sdkSign(t *testing.T, r *adaptors.HTTPRequest, cred aws.Credentials, service, region string) http.Header {
	t.Helper()
	req, err := http.NewRequest(r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Body) == 0 {
		req.Body, req.ContentLength = nil, 0
	}
	for _, h := range r.Header {
		switch strings.ToLower(h.Key) {
		case "authorization", "x-amz-date", "x-amz-security-token":
			continue
		}
		req.Header.Add(h.Key, h.Value)
	}
	sum := sha256.Sum256(r.Body)
	if err := v4.NewSigner().SignHTTP(context.Background(), cred, req, hex.EncodeToString(sum[:]), service, region, signingTime); err != nil {
		t.Fatal(err)
	}
	return req.Header
}

func headerOf(r *adaptors.HTTPRequest, key string) string {
	for _, h := range r.Header {
		if strings.EqualFold(h.Key, key) {
			return h.Value
		}
	}
	return ""
}

// TestSigV4MatchesSDK checks that, for the same request, credentials and
// time, the adaptor's signature is the AWS SDK's, byte for byte.
func TestSigV4MatchesSDK(t *testing.T) {
	a := New(Options{Now: fixedClock})
	chat := []byte(`{"model":"m","messages":[{"role":"user","content":"Hello!"}]}`)
	tests := []struct {
		name    string
		ch      adaptors.Channel
		model   string
		stream  bool
		cred    aws.Credentials
		region  string
		wantURL string
	}{
		{"claude_invoke", adaptors.Channel{Key: "AKIDEXAMPLE|wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY|us-east-1"},
			"claude-3-haiku-20240307", false, aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}, "us-east-1",
			"https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke"},
		{"claude_stream_session_token", adaptors.Channel{Key: "ASIAEXAMPLE|secret/key+x|eu-west-1|IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="},
			"claude-sonnet-4-5-20250929", true, aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret/key+x", SessionToken: "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="}, "eu-west-1",
			"https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"},
		{"converse_config_keys", adaptors.Channel{Config: map[string]string{"region": "us-west-2", "ak": "AKIAIOSFODNN7EXAMPLE", "sk": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
			"amazon.nova-lite-v1:0", false, aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, "us-west-2",
			"https://bedrock-runtime.us-west-2.amazonaws.com/model/amazon.nova-lite-v1%3A0/converse"},
		{"converse_stream_access_key_session", adaptors.Channel{Config: map[string]string{"region": "ap-northeast-1", "access_key": "ASIA2", "secret_key": "s2", "session_token": "tok en  spaced"}},
			"meta.llama3-3-70b-instruct-v1:0", true, aws.Credentials{AccessKeyID: "ASIA2", SecretAccessKey: "s2", SessionToken: "tok en  spaced"}, "ap-northeast-1",
			"https://bedrock-runtime.ap-northeast-1.amazonaws.com/model/meta.llama3-3-70b-instruct-v1%3A0/converse-stream"},
		{"inference_profile", adaptors.Channel{Key: "AK|SK|us-east-1"},
			"us.anthropic.claude-3-7-sonnet-20250219-v1:0", false, aws.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}, "us-east-1",
			"https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/invoke"},
		{"arn_model_id", adaptors.Channel{Key: "AK|SK|us-east-1"},
			"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3", true, aws.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}, "us-east-1",
			"https://bedrock-runtime.us-east-1.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fa1b2c3/converse-stream"},
		{"base_url_port_and_prefix", adaptors.Channel{Key: "AK|SK|us-east-1", BaseURL: "http://127.0.0.1:8099/proxy/bedrock/"},
			"mistral.mistral-large-2407-v1:0", false, aws.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}, "us-east-1",
			"http://127.0.0.1:8099/proxy/bedrock/model/mistral.mistral-large-2407-v1%3A0/converse"},
		{"base_url_default_port", adaptors.Channel{Key: "AK|SK|us-gov-west-1", BaseURL: "https://vpce-0abc.bedrock-runtime.us-gov-west-1.vpce.amazonaws.com:443"},
			"cohere.command-r-v1:0", true, aws.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}, "us-gov-west-1",
			"https://vpce-0abc.bedrock-runtime.us-gov-west-1.vpce.amazonaws.com/model/cohere.command-r-v1%3A0/converse-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &adaptors.Request{Mode: adaptors.ModeChat, Model: tt.model, OriginModel: "m", Body: chat, Stream: tt.stream}
			r, err := a.BuildRequest(&tt.ch, req)
			if err != nil {
				t.Fatal(err)
			}
			if r.URL != tt.wantURL {
				t.Errorf("URL = %s, want %s", r.URL, tt.wantURL)
			}
			want := sdkSign(t, r, tt.cred, "bedrock", tt.region)
			got := map[string]string{
				"Authorization":        headerOf(r, "Authorization"),
				"X-Amz-Date":           headerOf(r, "X-Amz-Date"),
				"X-Amz-Security-Token": headerOf(r, "X-Amz-Security-Token"),
			}
			for k, v := range got {
				if diff := cmp.Diff(want.Get(k), v); diff != "" {
					t.Errorf("%s (-sdk +adaptor):\n%s", k, diff)
				}
			}
			if !strings.Contains(got["Authorization"], "SignedHeaders=content-length;content-type;host;x-amz-date") {
				t.Errorf("unexpected signed headers: %s", got["Authorization"])
			}
		})
	}
}

// TestSigV4ModelsRequestMatchesSDK covers a GET without a body, signed
// for the control plane (service bedrock).
func TestSigV4ModelsRequestMatchesSDK(t *testing.T) {
	a := New(Options{Now: fixedClock})
	for _, ch := range []adaptors.Channel{
		{Key: "AKIDEXAMPLE|wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY|us-east-1"},
		{Key: "AK|SK|eu-central-1|session", BaseURL: "http://127.0.0.1:9000"},
	} {
		r, err := a.ModelsRequest(&ch)
		if err != nil {
			t.Fatal(err)
		}
		au, _ := channelAuth(&ch)
		want := sdkSign(t, r, aws.Credentials{AccessKeyID: au.cred.AccessKey, SecretAccessKey: au.cred.SecretKey, SessionToken: au.cred.SessionToken}, "bedrock", au.region)
		if got := headerOf(r, "Authorization"); got != want.Get("Authorization") {
			t.Errorf("%s: Authorization\n got %s\nwant %s", r.URL, got, want.Get("Authorization"))
		}
	}
}

// TestSigV4KnownVector checks the signer against the canonical example
// of AWS's SigV4 documentation (IAM service, GET ListUsers) computed by
// the SDK, so a shared mistake in request building cannot hide a signer
// bug.
func TestSigV4Vector(t *testing.T) {
	when := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	var hs []adaptors.Header
	hs = append(hs, adaptors.Header{Key: "Content-Type", Value: "application/x-www-form-urlencoded; charset=utf-8"})
	got := sign(hs, &signRequest{
		Method: "GET", Host: "iam.amazonaws.com", Path: "/", Query: "Action=ListUsers&Version=2010-05-08",
		Header: hs, Service: "iam", Region: "us-east-1", Time: when,
	}, &credentials{AccessKey: "AKIDEXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"})
	req, _ := http.NewRequest("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
		req, hex.EncodeToString(sum[:]), "iam", "us-east-1", when); err != nil {
		t.Fatal(err)
	}
	if a := got[len(got)-1].Value; a != req.Header.Get("Authorization") {
		t.Errorf("Authorization\n got %s\nwant %s", a, req.Header.Get("Authorization"))
	}
	// The documentation's published signature for this request.
	const docSig = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
	if !strings.HasSuffix(got[len(got)-1].Value, "Signature="+docSig) {
		t.Errorf("signature differs from AWS's documented example: %s", got[len(got)-1].Value)
	}
}

func TestBearerAuth(t *testing.T) {
	a := New(Options{Now: fixedClock})
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"Hi"}]}`)
	for _, ch := range []adaptors.Channel{
		{Key: "ABSKQmVkcm9ja0FQSUtleS1example", Config: map[string]string{"region": "us-east-1"}},
		{Key: "ignored", Config: map[string]string{"region": "us-east-1", "api_key": "ABSKQmVkcm9ja0FQSUtleS1example"}},
	} {
		r, err := a.BuildRequest(&ch, &adaptors.Request{Mode: adaptors.ModeChat, Model: "amazon.nova-micro-v1:0", Body: body})
		if err != nil {
			t.Fatal(err)
		}
		if got := headerOf(r, "Authorization"); got != "Bearer ABSKQmVkcm9ja0FQSUtleS1example" {
			t.Errorf("Authorization = %q", got)
		}
		if headerOf(r, "X-Amz-Date") != "" {
			t.Errorf("bearer request was also signed")
		}
	}
}
