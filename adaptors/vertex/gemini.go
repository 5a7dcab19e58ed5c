package vertex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/gemini"
	"switchyard/adaptors/internal/openaiwire"
)

// Gemini on Vertex AI takes the Gemini API's GenerateContentRequest and
// answers with its GenerateContentResponse (plus Vertex-only members such
// as createTime and usageMetadata.trafficType, which change nothing), so
// chat goes through the gemini package's exported conversions
// (gemini.BuildBodyWith, ParseGenerateResponse, NewSSEDecoder).
//
// Text embeddings differ: Vertex AI serves them with the prediction API
// (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api):
//
//	POST …/publishers/google/models/{model}:predict
//	{"instances":[{"content":"…"},…],"parameters":{"outputDimensionality":N}}
//
// answered by {"predictions":[{"embeddings":{"statistics":{"truncated":
// false,"token_count":6},"values":[…]}},…],"metadata":{…}}.

// predictBody is the predict request of a text embedding model.
type predictBody struct {
	Instances  []predictInstance `json:"instances"`
	Parameters *predictParams    `json:"parameters,omitempty"`
}

type predictInstance struct {
	Content string `json:"content"`
}

type predictParams struct {
	OutputDimensionality *int `json:"outputDimensionality,omitempty"`
}

// oaEmbedRequest is the part of OpenAI's embeddings body the conversion
// reads; encoding_format is the transport's business, user has no
// Vertex AI equivalent.
type oaEmbedRequest struct {
	Input      json.RawMessage `json:"input"`
	Dimensions *int            `json:"dimensions"`
}

// buildPredictBody converts an OpenAI embeddings body: one instance per
// input string (input is a string or an array of strings), dimensions as
// parameters.outputDimensionality. Token arrays, which Vertex AI cannot
// take, an empty input and non-positive dimensions fail with
// adaptors.ErrInvalidBody. (gemini-embedding-001 takes one instance per
// request; Vertex AI says so itself with a 400.)
func buildPredictBody(req *adaptors.Request) ([]byte, error) {
	if !openaiwire.IsObject(req.Body) {
		return nil, invalidBody("body must be a json object")
	}
	var in oaEmbedRequest
	if err := openaiwire.API.Unmarshal(req.Body, &in); err != nil {
		return nil, invalidBody("%v", err)
	}
	raw := bytes.TrimSpace(in.Input)
	var texts []string
	switch {
	case !openaiwire.IsPresent(raw):
		return nil, invalidBody("input: field required")
	case raw[0] == '"':
		var s string
		if err := openaiwire.API.Unmarshal(raw, &s); err != nil {
			return nil, invalidBody("input: %v", err)
		}
		texts = []string{s}
	default:
		if err := openaiwire.API.Unmarshal(raw, &texts); err != nil {
			return nil, invalidBody("input: must be a string or an array of strings (Vertex AI takes no token arrays)")
		}
	}
	if len(texts) == 0 {
		return nil, invalidBody("input: must not be empty")
	}
	out := predictBody{Instances: make([]predictInstance, len(texts))}
	for i, t := range texts {
		out.Instances[i].Content = t
	}
	if in.Dimensions != nil {
		if *in.Dimensions <= 0 {
			return nil, invalidBody("dimensions: must be positive")
		}
		out.Parameters = &predictParams{OutputDimensionality: in.Dimensions}
	}
	return openaiwire.Marshal(&out), nil
}

// invalidBody wraps adaptors.ErrInvalidBody with what is wrong.
func invalidBody(format string, args ...any) error {
	return fmt.Errorf("vertex: %w: "+format, append([]any{adaptors.ErrInvalidBody}, args...)...)
}

// predictResponse is the predict answer of a text embedding model;
// values stay raw so the floats reach the client as Google wrote them.
type predictResponse struct {
	Predictions []struct {
		Embeddings struct {
			Statistics *struct {
				TokenCount float64 `json:"token_count"`
			} `json:"statistics"`
			Values sonic.NoCopyRawMessage `json:"values"`
		} `json:"embeddings"`
	} `json:"predictions"`
	Error sonic.NoCopyRawMessage `json:"error"`
}

// parsePredict converts a 2xx predict answer into OpenAI's embeddings
// list: {"object":"list","data":[{"object":"embedding","index":i,
// "embedding":[…]}],"model":…,"usage":{"prompt_tokens":n,
// "total_tokens":n}}, n being the sum of the predictions'
// statistics.token_count (Usage nil, and zeros in the body, when Vertex
// AI reports none). A body that is not a predict answer wraps
// adaptors.ErrInvalidResponse; Google's error object is a *schema.Error.
func parsePredict(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var r predictResponse
	if !openaiwire.IsObject(body) || openaiwire.DecodeLenient(body, &r) != nil {
		return nil, fmt.Errorf("vertex: %w: not a predict answer", adaptors.ErrInvalidResponse)
	}
	if openaiwire.IsPresent(r.Error) {
		return nil, errorIn2xx(body)
	}
	if r.Predictions == nil {
		return nil, fmt.Errorf("vertex: %w: predict answer has no predictions", adaptors.ErrInvalidResponse)
	}
	model := req.OriginModel
	if model == "" {
		model = req.Model
	}
	tokens, counted := 0, false
	b := make([]byte, 0, len(body)/2+128)
	b = append(b, `{"object":"list","data":[`...)
	for i, p := range r.Predictions {
		v := bytes.TrimSpace(p.Embeddings.Values)
		if len(v) == 0 || v[0] != '[' {
			return nil, fmt.Errorf("vertex: %w: prediction %d has no embedding values", adaptors.ErrInvalidResponse, i)
		}
		if s := p.Embeddings.Statistics; s != nil {
			counted = true
			if s.TokenCount > 0 && s.TokenCount < math.MaxInt32 {
				tokens += int(s.TokenCount)
			}
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"object":"embedding","index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"embedding":`...)
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, v); err != nil {
			return nil, fmt.Errorf("vertex: %w: prediction %d: %v", adaptors.ErrInvalidResponse, i, err)
		}
		b = append(buf.Bytes(), '}')
	}
	b = append(b, `],"model":`...)
	q, _ := json.Marshal(model)
	b = append(b, q...)
	b = append(b, `,"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(tokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(tokens), 10)
	b = append(b, "}}"...)
	resp := &adaptors.Response{Body: b}
	if counted {
		resp.Usage = &adaptors.Usage{PromptTokens: tokens, TotalTokens: tokens}
	}
	return resp, nil
}

// errorIn2xx converts Google's error object found in a 2xx body: its
// status is the error's code (500 when it has none).
func errorIn2xx(body []byte) error {
	var w struct {
		Error struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	_ = openaiwire.DecodeLenient(body, &w)
	status := w.Error.Code
	if status < 400 || status > 599 {
		status = 500
	}
	return gemini.ParseErrorBody(status, body)
}
