package baidu

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"math"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// embedIn is the part of an OpenAI embeddings body the conversion reads.
type embedIn struct {
	Input          sonic.NoCopyRawMessage `json:"input"`
	EncodingFormat string                 `json:"encoding_format"`
	Dimensions     *int                   `json:"dimensions"`
	User           string                 `json:"user"`
}

// embedOut is ERNIE v1's embeddings body.
type embedOut struct {
	Input  []string `json:"input"`
	UserID string   `json:"user_id,omitempty"`
}

// buildEmbed converts an OpenAI embeddings body: input (a string or an
// array of strings) → input, user → user_id. Baidu's models have a fixed
// size, so dimensions is refused rather than ignored, as are token-array
// inputs and encoding formats other than float and base64 (base64 is
// encoded by the adaptor from the floats, as OpenAI encodes it:
// little-endian float32).
func buildEmbed(req *adaptors.Request) ([]byte, error) {
	var in embedIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	switch in.EncodingFormat {
	case "", "float", "base64":
	default:
		return nil, invalidBody("encoding_format %q is not supported (float or base64)", in.EncodingFormat)
	}
	if in.Dimensions != nil {
		return nil, invalidBody("dimensions is not supported by Baidu's embedding models")
	}
	texts, err := embedTexts(in.Input)
	if err != nil {
		return nil, err
	}
	body, err := marshal(&embedOut{Input: texts, UserID: in.User})
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	return body, nil
}

// embedTexts reads input: a string or a non-empty array of strings.
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
	var list []string
	if err := bodyAPI.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		return nil, invalidBody("input must be a string or a non-empty array of strings (token arrays are not supported by Baidu)")
	}
	return list, nil
}

// embedAnswer is ERNIE v1's embeddings answer ({"id","object":
// "embedding_list","created","data":[{"object":"embedding","embedding",
// "index"}],"usage"}) or an error.
type embedAnswer struct {
	Data []struct {
		Embedding []float64 `json:"embedding"`
		Index     int       `json:"index"`
	} `json:"data"`
	Usage     *usageWire `json:"usage"`
	ErrorCode int        `json:"error_code"`
	ErrorMsg  string     `json:"error_msg"`
}

// embeddingList is OpenAI's embeddings answer.
type embeddingList struct {
	Object string         `json:"object"`
	Data   []embeddingOut `json:"data"`
	Model  string         `json:"model"`
	Usage  embedUsage     `json:"usage"`
}

type embeddingOut struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

type embedUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// parseEmbed converts an embeddings answer to OpenAI's list; the vectors
// are base64 when the client asked for it.
func parseEmbed(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var a embedAnswer
	if err := decodeAnswer(body, &a); err != nil {
		return nil, err
	}
	if a.ErrorCode != 0 {
		return nil, apiError(a.ErrorCode, a.ErrorMsg)
	}
	if a.Data == nil {
		return nil, invalidResponse("embeddings answer has no data")
	}
	var in embedIn
	_ = bodyAPI.Unmarshal(req.Body, &in) // the request was checked when built
	b64 := in.EncodingFormat == "base64"
	out := embeddingList{Object: "list", Data: make([]embeddingOut, len(a.Data)), Model: req.OriginModel}
	for i, d := range a.Data {
		e := embeddingOut{Object: "embedding", Index: d.Index, Embedding: d.Embedding}
		if d.Embedding == nil {
			e.Embedding = []float64{}
		}
		if b64 {
			e.Embedding = encodeFloats(d.Embedding)
		}
		out.Data[i] = e
	}
	resp := &adaptors.Response{}
	if a.Usage != nil {
		// Embedding reads its input: every token counted is a prompt token.
		n := max(a.Usage.PromptTokens, 0)
		if n == 0 {
			n = max(a.Usage.TotalTokens, 0)
		}
		if n > 0 {
			resp.Usage = &adaptors.Usage{PromptTokens: n, TotalTokens: n}
			out.Usage = embedUsage{PromptTokens: n, TotalTokens: n}
		}
	}
	var err error
	if resp.Body, err = marshal(&out); err != nil {
		return nil, invalidResponse("%v", err)
	}
	return resp, nil
}

// encodeFloats encodes a vector as OpenAI's base64 embeddings:
// little-endian float32s.
func encodeFloats(v []float64) string {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(f)))
	}
	return base64.StdEncoding.EncodeToString(b)
}
