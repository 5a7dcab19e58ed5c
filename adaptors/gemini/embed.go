package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// oaEmbedRequest is the part of OpenAI's embeddings body the conversion
// reads; encoding_format is the transport's business (it re-encodes the
// answer), user has no Gemini equivalent.
type oaEmbedRequest struct {
	Input      json.RawMessage `json:"input"`
	Dimensions *int            `json:"dimensions"`
}

// upEmbedRequest is one EmbedContentRequest of a batchEmbedContents body
// (https://ai.google.dev/api/embeddings). Every request names the model,
// which must match the model in the URL.
type upEmbedRequest struct {
	Model                string    `json:"model"`
	Content              upContent `json:"content"`
	OutputDimensionality *int      `json:"outputDimensionality,omitempty"`
}

type upBatchEmbed struct {
	Requests []upEmbedRequest `json:"requests"`
}

// BuildEmbedBody converts an OpenAI embeddings body into a
// batchEmbedContents body for req.Model: one request per input string
// (input is a string or an array of strings), dimensions as
// outputDimensionality. Token arrays, which Gemini cannot take, and an
// empty input fail with adaptors.ErrInvalidBody. Pure and safe for
// concurrent use; Vertex AI takes the same body at its own URL.
func BuildEmbedBody(req *adaptors.Request) ([]byte, error) {
	if !openaiwire.IsObject(req.Body) {
		return nil, invalidBody("body must be a json object")
	}
	var in oaEmbedRequest
	if err := unmarshal(req.Body, &in); err != nil {
		return nil, invalidBody("%v", err)
	}
	raw := bytes.TrimSpace(in.Input)
	var texts []string
	switch {
	case !isPresent(raw):
		return nil, invalidBody("input: field required")
	case raw[0] == '"':
		var s string
		if err := openaiwire.API.Unmarshal(raw, &s); err != nil {
			return nil, invalidBody("input: %v", err)
		}
		texts = []string{s}
	default:
		if err := openaiwire.API.Unmarshal(raw, &texts); err != nil {
			return nil, invalidBody("input: must be a string or an array of strings (Gemini takes no token arrays)")
		}
	}
	if len(texts) == 0 {
		return nil, invalidBody("input: must not be empty")
	}
	if in.Dimensions != nil && *in.Dimensions <= 0 {
		return nil, invalidBody("dimensions: must be positive")
	}
	name := "models/" + strings.TrimPrefix(req.Model, "models/")
	out := upBatchEmbed{Requests: make([]upEmbedRequest, len(texts))}
	for i, t := range texts {
		out.Requests[i] = upEmbedRequest{
			Model:                name,
			Content:              upContent{Parts: []upPart{{Text: t}}},
			OutputDimensionality: in.Dimensions,
		}
	}
	return openaiwire.Marshal(&out), nil
}

// upEmbedResponse is BatchEmbedContentsResponse; values stay raw so the
// floats reach the client exactly as Google wrote them.
type upEmbedResponse struct {
	Embeddings []struct {
		Values sonic.NoCopyRawMessage `json:"values"`
	} `json:"embeddings"`
	Error sonic.NoCopyRawMessage `json:"error"`
}

// ParseEmbedResponse converts a 2xx batchEmbedContents answer into
// OpenAI's embeddings list: {"object":"list","data":[{"object":
// "embedding","index":i,"embedding":[…]}],"model":…,"usage":{…}}. Gemini
// reports no token usage for embeddings, so Response.Usage is nil (the
// gateway estimates) and the body's usage is zeros, which OpenAI's SDKs
// accept. A body that is not a BatchEmbedContentsResponse wraps
// adaptors.ErrInvalidResponse; Google's error object is a *schema.Error.
func ParseEmbedResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var r upEmbedResponse
	if !isObject(body) || decodeWire(body, &r) != nil {
		return nil, fmt.Errorf("gemini: %w: not a BatchEmbedContentsResponse", adaptors.ErrInvalidResponse)
	}
	if isPresent(r.Error) {
		return nil, upstreamError(r.Error)
	}
	model := req.OriginModel
	if model == "" {
		model = req.Model
	}
	b := make([]byte, 0, len(body)/2+128)
	b = append(b, `{"object":"list","data":[`...)
	for i, e := range r.Embeddings {
		v := bytes.TrimSpace(e.Values)
		if len(v) == 0 || v[0] != '[' {
			return nil, fmt.Errorf("gemini: %w: embedding %d has no values", adaptors.ErrInvalidResponse, i)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"embedding":`...)
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, v); err != nil {
			return nil, fmt.Errorf("gemini: %w: embedding %d: %v", adaptors.ErrInvalidResponse, i, err)
		}
		b = append(buf.Bytes(), '}')
	}
	b = append(b, `],"model":`...)
	b = appendString(b, model)
	b = append(b, `,"usage":{"prompt_tokens":0,"total_tokens":0}}`...)
	return &adaptors.Response{Body: b}, nil
}
