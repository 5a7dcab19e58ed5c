package ali

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// embedIn is an OpenAI embeddings body, plus DashScope's text_type for
// clients that know they talk to DashScope.
type embedIn struct {
	Input          sonic.NoCopyRawMessage `json:"input"`
	EncodingFormat string                 `json:"encoding_format"`
	Dimensions     *int                   `json:"dimensions"`
	TextType       string                 `json:"text_type"`
}

// embedOut is the native text-embedding body.
type embedOut struct {
	Model      string          `json:"model"`
	Input      embedInput      `json:"input"`
	Parameters *embedParameter `json:"parameters,omitempty"`
}

type embedInput struct {
	Texts []string `json:"texts"`
}

// embedParameter is sent only when it sets something, as DashScope's
// SDKs do.
type embedParameter struct {
	TextType  string `json:"text_type,omitempty"`
	Dimension int    `json:"dimension,omitempty"`
}

// buildEmbed describes the native text-embedding call: input (a string or
// strings) → input.texts, dimensions → parameters.dimension, text_type
// from the body or the channel config.
func buildEmbed(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	var in embedIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	if _, err := encodingFormat(in.EncodingFormat); err != nil {
		return nil, err
	}
	texts, err := embedTexts(in.Input)
	if err != nil {
		return nil, err
	}
	out := embedOut{Model: req.Model, Input: embedInput{Texts: texts}}
	p := embedParameter{TextType: in.TextType}
	if p.TextType == "" {
		p.TextType = ch.Config[ConfigTextType]
	}
	if in.Dimensions != nil {
		if *in.Dimensions < 1 {
			return nil, invalidBody("dimensions must be at least 1")
		}
		p.Dimension = *in.Dimensions
	}
	if p != (embedParameter{}) {
		out.Parameters = &p
	}
	body, err := marshal(&out)
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	return newRequest(ch, "POST", embedPath, body), nil
}

// encodingFormat reports whether the client wants base64 embeddings.
func encodingFormat(f string) (base64Out bool, err error) {
	switch f {
	case "", "float":
		return false, nil
	case "base64":
		return true, nil
	}
	return false, invalidBody("encoding_format %q is not supported", f)
}

// embedTexts reads input: a string or an array of strings. Token arrays
// (OpenAI also takes those) have no DashScope equivalent.
func embedTexts(raw []byte) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, invalidBody("input is required")
	}
	if raw[0] == '"' {
		var s string
		if err := bodyAPI.Unmarshal(raw, &s); err != nil {
			return nil, invalidBody("input: %v", err)
		}
		return []string{s}, nil
	}
	var texts []string
	if raw[0] != '[' || bodyAPI.Unmarshal(raw, &texts) != nil {
		return nil, invalidBody("input must be a string or an array of strings (token arrays are not supported by DashScope)")
	}
	if len(texts) == 0 {
		return nil, invalidBody("input must not be empty")
	}
	return texts, nil
}

// embedWire is the native text-embedding answer.
type embedWire struct {
	Output *struct {
		Embeddings []embeddingWire `json:"embeddings"`
	} `json:"output"`
	Usage struct {
		TotalTokens int `json:"total_tokens"`
		InputTokens int `json:"input_tokens"`
	} `json:"usage"`
	RequestID string `json:"request_id"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	// The compatible mode's (OpenAI's) answer members.
	Data  sonic.NoCopyRawMessage `json:"data"`
	Error sonic.NoCopyRawMessage `json:"error"`
}

// embeddingWire is one embedding of a native answer.
type embeddingWire struct {
	TextIndex int                    `json:"text_index"`
	Embedding sonic.NoCopyRawMessage `json:"embedding"`
}

// parseEmbed converts an embeddings answer to OpenAI's list: native
// answers here (embeddings in text_index order, usage.total_tokens as
// prompt tokens), compatible-mode answers by the OpenAI adaptor.
func (a *Adaptor) parseEmbed(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var w embedWire
	if err := decodeAnswer(body, &w); err != nil {
		return nil, err
	}
	if w.Code != "" {
		return nil, answerError(w.Code, w.Message, w.RequestID)
	}
	if w.Output == nil {
		if w.Data == nil && w.Error == nil {
			return nil, invalidResponse("answer has neither output nor data")
		}
		return a.compat.ParseResponse(req, body)
	}
	var in embedIn
	_ = openaiwire.DecodeLenient(req.Body, &in) // checked by BuildRequest
	b64, _ := encodingFormat(in.EncodingFormat)
	embs := w.Output.Embeddings
	slices.SortStableFunc(embs, func(x, y embeddingWire) int { return x.TextIndex - y.TextIndex })
	n := 64
	for _, e := range embs {
		n += len(e.Embedding) + 48
	}
	out := make([]byte, 0, n)
	out = append(out, `{"object":"list","data":[`...)
	for i, e := range embs {
		v := bytes.TrimSpace(e.Embedding)
		if len(v) == 0 || v[0] != '[' {
			return nil, invalidResponse("embedding %d is not an array", i)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"object":"embedding","index":`...)
		out = strconv.AppendInt(out, int64(i), 10)
		out = append(out, `,"embedding":`...)
		if b64 {
			var err error
			if out, err = appendBase64Embedding(out, v); err != nil {
				return nil, err
			}
		} else {
			var err error
			if out, err = appendCompact(out, v); err != nil {
				return nil, invalidResponse("embedding %d: %v", i, err)
			}
		}
		out = append(out, '}')
	}
	out = append(out, `],"model":`...)
	out = openaiwire.AppendString(out, req.OriginModel)
	resp := &adaptors.Response{}
	tokens := w.Usage.TotalTokens
	if tokens <= 0 {
		tokens = w.Usage.InputTokens
	}
	if tokens > 0 {
		resp.Usage = &adaptors.Usage{PromptTokens: tokens, TotalTokens: tokens}
	}
	out = append(out, `,"usage":{"prompt_tokens":`...)
	out = strconv.AppendInt(out, int64(max(tokens, 0)), 10)
	out = append(out, `,"total_tokens":`...)
	out = strconv.AppendInt(out, int64(max(tokens, 0)), 10)
	out = append(out, "}}"...)
	resp.Body = out
	return resp, nil
}

// appendCompact appends the JSON array v, checked and without spaces.
func appendCompact(dst, v []byte) ([]byte, error) {
	if !bytes.ContainsAny(v, " \t\r\n") {
		if !sonic.Valid(v) {
			return nil, errors.New("not JSON")
		}
		return append(dst, v...), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return nil, err
	}
	return append(dst, b.Bytes()...), nil
}

// appendBase64Embedding appends a float array as OpenAI encodes it for
// encoding_format "base64": little-endian float32s, standard base64, as
// a JSON string.
func appendBase64Embedding(dst, raw []byte) ([]byte, error) {
	var fs []float64
	if err := bodyAPI.Unmarshal(raw, &fs); err != nil {
		return nil, invalidResponse("embedding: %v", err)
	}
	bin := make([]byte, 4*len(fs))
	for i, f := range fs {
		binary.LittleEndian.PutUint32(bin[4*i:], math.Float32bits(float32(f)))
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, bin)
	return append(dst, '"'), nil
}
