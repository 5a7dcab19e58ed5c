package openai

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

// formPart is one part of a multipart body as a form parser sees it.
type formPart struct {
	Header  textproto.MIMEHeader
	Content []byte
}

// readForm parses a multipart body with the boundary of contentType.
func readForm(t testing.TB, contentType string, body []byte) []formPart {
	t.Helper()
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var parts []formPart
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("multipart part: %v", err)
		}
		parts = append(parts, formPart{Header: p.Header, Content: b})
	}
}

// checkModelRewrite verifies that out (sent with outType) is in (sent
// with inType) with the model field set to model and every other part
// unchanged: same order, header values and content bytes.
func checkModelRewrite(t *testing.T, inType string, in []byte, outType string, out []byte, model string) {
	t.Helper()
	var want []formPart
	seen := false
	for _, p := range readForm(t, inType, in) {
		if isModelPart(p) {
			p.Content = []byte(model)
			seen = true
		}
		want = append(want, p)
	}
	if !seen {
		want = append(want, formPart{
			Header:  textproto.MIMEHeader{"Content-Disposition": {`form-data; name="model"`}},
			Content: []byte(model),
		})
	}
	if diff := cmp.Diff(want, readForm(t, outType, out)); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
}

func isModelPart(p formPart) bool {
	d, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	return err == nil && d == "form-data" && params["name"] == "model" && params["filename"] == ""
}

const webkitType = "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"

// TestMultipartRewriteBinary uploads a file whose bytes contain every
// value, CRLFs and boundary-like dashes, and checks that a model rewrite
// leaves it intact.
func TestMultipartRewriteBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	file := make([]byte, 64<<10)
	for i := range file {
		file[i] = byte(rng.UintN(256))
	}
	copy(file[100:], "\r\n--\r\n------WebKitFormBoundary\r\n\r\n")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := w.SetBoundary("----WebKitFormBoundary7MA4YWxkTrZu0gW"); err != nil {
		t.Fatal(err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="réunion du 3 mars.wav"`)
	h.Set("Content-Type", "audio/wav")
	fw, _ := w.CreatePart(h)
	_, _ = fw.Write(file)
	_ = w.WriteField("model", "whisper-1")
	_ = w.WriteField("prompt", "Switchyard, One API, Jina")
	_ = w.Close()
	in := body.Bytes()

	a := New(OpenAIConfig())
	req := &adaptors.Request{Mode: adaptors.ModeAudioTranscriptions, Model: "gpt-4o-transcribe", OriginModel: "whisper-1",
		Body: in, ContentType: webkitType}
	got, err := a.BuildRequest(&adaptors.Channel{Key: "k"}, req)
	if err != nil {
		t.Fatal(err)
	}
	ct := header(got, "Content-Type")
	if ct != webkitType {
		t.Errorf("Content-Type %q, want the client's %q", ct, webkitType)
	}
	checkModelRewrite(t, webkitType, in, ct, got.Body, "gpt-4o-transcribe")
	parts := readForm(t, ct, got.Body)
	if !bytes.Equal(parts[0].Content, file) {
		t.Errorf("file part changed")
	}
}

func header(r *adaptors.HTTPRequest, key string) string {
	for _, h := range r.Header {
		if h.Key == key {
			return h.Value
		}
	}
	return ""
}

func TestMultipartPassthrough(t *testing.T) {
	a := New(OpenAIConfig())
	in := adaptortest.ReadFile(t, "testdata/build/audio_transcriptions.multipart")
	for _, req := range []adaptors.Request{
		// The relay read the model and the channel does not map it.
		{Mode: adaptors.ModeAudioTranscriptions, Model: "whisper-1", OriginModel: "whisper-1"},
		// Nothing known: the body is read, and already holds the model.
		{Mode: adaptors.ModeAudioTranscriptions, Model: "whisper-1"},
		// No model to set.
		{Mode: adaptors.ModeAudioTranscriptions},
	} {
		req.Body, req.ContentType = in, webkitType
		got, err := a.BuildRequest(&adaptors.Channel{Key: "k"}, &req)
		if err != nil {
			t.Fatal(err)
		}
		if unsafe.SliceData(got.Body) != unsafe.SliceData(in) || len(got.Body) != len(in) {
			t.Errorf("%+v: body was copied or rewritten", req)
		}
		if ct := header(got, "Content-Type"); ct != webkitType {
			t.Errorf("Content-Type %q", ct)
		}
	}
}

// TestMultipartNewBoundary: when the client's boundary cannot be reused,
// the body is re-encoded with a boundary derived from it, and the
// Content-Type says so.
func TestMultipartNewBoundary(t *testing.T) {
	const odd = "b@d#boundary" // '@' and '#' are outside RFC 2046's set
	in := []byte("--" + odd + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--" + odd +
		"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\nID3\r\n--" + odd + "--\r\n")
	inType := `multipart/form-data; boundary="` + odd + `"`
	a := New(OpenAIConfig())
	for _, model := range []string{"gpt-4o-transcribe", "x--" + odd} {
		req := &adaptors.Request{Mode: adaptors.ModeAudioTranscriptions, Model: model, OriginModel: "whisper-1", Body: in, ContentType: inType}
		got, err := a.BuildRequest(&adaptors.Channel{Key: "k"}, req)
		if err != nil {
			t.Fatal(err)
		}
		ct := header(got, "Content-Type")
		if !strings.HasPrefix(ct, "multipart/form-data; boundary=switchyard-") {
			t.Fatalf("Content-Type %q", ct)
		}
		checkModelRewrite(t, inType, in, ct, got.Body, model)
		again, _ := a.BuildRequest(&adaptors.Channel{Key: "k"}, req)
		if !bytes.Equal(again.Body, got.Body) {
			t.Errorf("re-encoding is not deterministic")
		}
	}
	// A model name that contains the (valid) client boundary forces a new
	// one too, or the body would end early.
	in = adaptortest.ReadFile(t, "testdata/build/audio_transcriptions.multipart")
	model := "--" + "----WebKitFormBoundary7MA4YWxkTrZu0gW"
	req := &adaptors.Request{Mode: adaptors.ModeAudioTranscriptions, Model: model, OriginModel: "whisper-1", Body: in, ContentType: webkitType}
	got, err := a.BuildRequest(&adaptors.Channel{Key: "k"}, req)
	if err != nil {
		t.Fatal(err)
	}
	ct := header(got, "Content-Type")
	if ct == webkitType {
		t.Fatalf("boundary kept although the model contains it")
	}
	checkModelRewrite(t, webkitType, in, ct, got.Body, model)
}

func TestMultipartErrors(t *testing.T) {
	a := New(OpenAIConfig())
	in := adaptortest.ReadFile(t, "testdata/build/audio_transcriptions.multipart")
	tests := []struct {
		name, contentType string
		body              []byte
		model             string
	}{
		{"no boundary", "multipart/form-data", in, "whisper-1"},
		{"bad media type", "multipart/form-data; boundary", in, "whisper-1"},
		{"wrong boundary", "multipart/form-data; boundary=nope", in, "gpt-4o-transcribe"},
		{"truncated", webkitType, in[:len(in)/2], "gpt-4o-transcribe"},
		{"empty", webkitType, nil, "gpt-4o-transcribe"},
	}
	for _, tt := range tests {
		req := &adaptors.Request{Mode: adaptors.ModeAudioTranscriptions, Model: tt.model, OriginModel: "whisper-1", Body: tt.body, ContentType: tt.contentType}
		if _, err := a.BuildRequest(&adaptors.Channel{Key: "k"}, req); !errors.Is(err, adaptors.ErrInvalidBody) {
			t.Errorf("%s: err = %v, want ErrInvalidBody", tt.name, err)
		}
	}
}

// FuzzMultipartRewrite: any body either fails cleanly or re-encodes to a
// body whose parts are the input's with the model set.
func FuzzMultipartRewrite(f *testing.F) {
	f.Add(adaptortest.ReadFile(f, "testdata/build/audio_transcriptions.multipart"), "gpt-4o-transcribe")
	f.Add(adaptortest.ReadFile(f, "testdata/build/audio_transcriptions_no_model.multipart"), "m")
	f.Fuzz(func(t *testing.T, body []byte, model string) {
		out, boundary, err := rewriteMultipartModel(body, "----WebKitFormBoundary7MA4YWxkTrZu0gW", model)
		if err != nil {
			return
		}
		if unsafe.SliceData(out) == unsafe.SliceData(body) {
			return // unchanged: the model was already set
		}
		checkModelRewrite(t, webkitType, body, "multipart/form-data; boundary="+boundary, out, model)
	})
}
