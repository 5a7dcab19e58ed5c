package cohere

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// embedIn is an OpenAI embeddings body, plus Cohere's input_type for
// clients that know they talk to Cohere.
type embedIn struct {
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	InputType      string          `json:"input_type"`
}

// embedOut is the v2 embed body.
type embedOut struct {
	Model           string   `json:"model"`
	Texts           []string `json:"texts"`
	InputType       string   `json:"input_type"`
	EmbeddingTypes  []string `json:"embedding_types"`
	OutputDimension *int     `json:"output_dimension,omitempty"`
}

// floatTypes asks for float embeddings only; base64 answers are encoded
// from them by the adaptor.
var floatTypes = []string{"float"}

func buildEmbed(ch *adaptors.Channel, req *adaptors.Request) ([]byte, error) {
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
	out := embedOut{
		Model:           req.Model,
		Texts:           texts,
		InputType:       in.InputType,
		EmbeddingTypes:  floatTypes,
		OutputDimension: in.Dimensions,
	}
	if out.InputType == "" {
		out.InputType = ch.Config["input_type"]
	}
	if out.InputType == "" {
		out.InputType = defaultInputType
	}
	body, err := marshal(&out)
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	return body, nil
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
// (OpenAI also takes those) have no v2 equivalent.
func embedTexts(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if !openaiwire.IsPresent(raw) {
		return nil, invalidBody("input is required")
	}
	if raw[0] == '"' {
		var s string
		if err := openaiwire.API.Unmarshal(raw, &s); err != nil {
			return nil, invalidBody("input: %v", err)
		}
		return []string{s}, nil
	}
	var texts []string
	if raw[0] != '[' || openaiwire.API.Unmarshal(raw, &texts) != nil {
		return nil, invalidBody("input must be a string or an array of strings (token arrays are not supported by Cohere)")
	}
	if len(texts) == 0 {
		return nil, invalidBody("input must not be empty")
	}
	return texts, nil
}

// embedResponse is v2's embed answer (embeddings_by_type).
type embedResponse struct {
	Embeddings *struct {
		Float []json.RawMessage `json:"float"`
	} `json:"embeddings"`
	Meta *usageWire `json:"meta"`
}

// embeddingList is OpenAI's embeddings answer. Embedding is raw JSON: the
// float array as Cohere wrote it, or a base64 string.
type embeddingList struct {
	Object string          `json:"object"`
	Data   []embeddingItem `json:"data"`
	Model  string          `json:"model"`
	Usage  embeddingUsage  `json:"usage"`
}

// embeddingUsage is OpenAI's embeddings usage: prompt tokens only.
type embeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

type embeddingItem struct {
	Object    string          `json:"object"`
	Index     int             `json:"index"`
	Embedding json.RawMessage `json:"embedding"`
}

func parseEmbed(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var w embedResponse
	if err := decodeAnswer(body, &w); err != nil {
		return nil, err
	}
	if w.Embeddings == nil {
		return nil, invalidResponse("embed answer has no embeddings")
	}
	var in embedIn
	_ = openaiwire.DecodeLenient(req.Body, &in) // validated by BuildRequest
	b64, _ := encodingFormat(in.EncodingFormat)
	out := embeddingList{Object: "list", Model: req.OriginModel, Data: make([]embeddingItem, len(w.Embeddings.Float))}
	for i, v := range w.Embeddings.Float {
		if b64 {
			enc, err := base64Embedding(v)
			if err != nil {
				return nil, err
			}
			v = enc
		} else if !validStrings(v) {
			return nil, invalidResponse("embedding %d is not JSON", i)
		}
		out.Data[i] = embeddingItem{Object: "embedding", Index: i, Embedding: v}
	}
	resp := &adaptors.Response{}
	// Embedding bills input tokens only (meta.billed_units.input_tokens).
	if n, _ := w.Meta.counts(); n > 0 {
		resp.Usage = &adaptors.Usage{PromptTokens: n, TotalTokens: n}
		out.Usage = embeddingUsage{PromptTokens: n, TotalTokens: n}
	}
	var err error
	if resp.Body, err = marshal(&out); err != nil {
		return nil, invalidResponse("%v", err)
	}
	return resp, nil
}

// base64Embedding encodes a float array as OpenAI does for
// encoding_format "base64": little-endian float32s, standard base64, as
// a JSON string.
func base64Embedding(raw json.RawMessage) (json.RawMessage, error) {
	var fs []float64
	if err := openaiwire.API.Unmarshal(raw, &fs); err != nil {
		return nil, invalidResponse("embedding: %v", err)
	}
	bin := make([]byte, 4*len(fs))
	for i, f := range fs {
		binary.LittleEndian.PutUint32(bin[4*i:], math.Float32bits(float32(f)))
	}
	enc := make([]byte, 0, base64.StdEncoding.EncodedLen(len(bin))+2)
	enc = append(enc, '"')
	enc = base64.StdEncoding.AppendEncode(enc, bin)
	return append(enc, '"'), nil
}
