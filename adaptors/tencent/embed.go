package tencent

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// embedDimensions is the size of Hunyuan's embeddings (EmbeddingData: "目前
// 为 1024 维浮点数"); it has no parameter to change it.
const embedDimensions = 1024

// maxInputList is the most texts GetEmbedding takes in InputList.
const maxInputList = 50

// embedIn is an OpenAI embeddings body.
type embedIn struct {
	Input          sonic.NoCopyRawMessage `json:"input"`
	EncodingFormat string                 `json:"encoding_format"`
	Dimensions     *int                   `json:"dimensions"`
}

// embedOut is the GetEmbedding body: one text in Input, or several in
// InputList.
type embedOut struct {
	Input     *string  `json:"Input,omitempty"`
	InputList []string `json:"InputList,omitempty"`
}

// buildEmbed converts an OpenAI embeddings body. A string, or an array of
// one string, goes as Input (the form every version of the API takes);
// larger arrays as InputList. Token arrays, dimensions other than 1024
// and unknown encodings are refused.
func buildEmbed(req *adaptors.Request) ([]byte, error) {
	var in embedIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	if _, err := encodingFormat(in.EncodingFormat); err != nil {
		return nil, err
	}
	if in.Dimensions != nil && *in.Dimensions != embedDimensions {
		return nil, invalidBody("dimensions: Hunyuan's embeddings have %d dimensions", embedDimensions)
	}
	raw := bytes.TrimSpace(in.Input)
	if !openaiwire.IsPresent(raw) {
		return nil, invalidBody("input is required")
	}
	var out embedOut
	if raw[0] == '"' {
		var s string
		if err := openaiwire.API.Unmarshal(raw, &s); err != nil {
			return nil, invalidBody("input: %v", err)
		}
		out.Input = &s
	} else {
		var texts []string
		if raw[0] != '[' || openaiwire.API.Unmarshal(raw, &texts) != nil {
			return nil, invalidBody("input must be a string or an array of strings (token arrays are not supported by Hunyuan)")
		}
		switch {
		case len(texts) == 0:
			return nil, invalidBody("input must not be empty")
		case len(texts) > maxInputList:
			return nil, invalidBody("input: Hunyuan embeds at most %d texts per request", maxInputList)
		case len(texts) == 1:
			out.Input = &texts[0]
		default:
			out.InputList = texts
		}
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

// embedResponse is GetEmbedding's answer (GetEmbeddingResponseParams).
type embedResponse struct {
	Data []struct {
		Embedding json.RawMessage `json:"Embedding"`
	} `json:"Data"`
	Usage usageWire    `json:"Usage"`
	Error *errorDetail `json:"Error"`
}

type embedEnvelope struct {
	Response *embedResponse `json:"Response"`
	embedResponse
}

// embeddingList is OpenAI's embeddings answer. Embedding is raw JSON: the
// float array as Hunyuan wrote it, or a base64 string.
type embeddingList struct {
	Object string          `json:"object"`
	Data   []embeddingItem `json:"data"`
	Model  string          `json:"model"`
	Usage  embeddingUsage  `json:"usage"`
}

type embeddingItem struct {
	Object    string          `json:"object"`
	Index     int             `json:"index"`
	Embedding json.RawMessage `json:"embedding"`
}

// embeddingUsage is OpenAI's embeddings usage: prompt tokens only.
type embeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// parseEmbed converts a GetEmbedding answer into OpenAI's list, items
// numbered in Hunyuan's order (its Index is documented as always 0 in
// versions without InputList).
func parseEmbed(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var env embedEnvelope
	if err := decodeAnswer(body, &env); err != nil {
		return nil, err
	}
	w := &env.embedResponse
	if env.Response != nil {
		w = env.Response
	}
	if w.Error != nil && w.Error.Code != "" {
		return nil, apiError(codeStatus(w.Error.Code), w.Error)
	}
	if len(w.Data) == 0 {
		return nil, invalidResponse("embedding answer has no Data")
	}
	var in embedIn
	_ = openaiwire.DecodeLenient(req.Body, &in) // validated by BuildRequest
	b64, _ := encodingFormat(in.EncodingFormat)
	out := embeddingList{Object: "list", Model: req.OriginModel, Data: make([]embeddingItem, len(w.Data))}
	for i, d := range w.Data {
		v, err := embeddingValue(d.Embedding, b64)
		if err != nil {
			return nil, invalidResponse("embedding %d: %v", i, err)
		}
		out.Data[i] = embeddingItem{Object: "embedding", Index: i, Embedding: v}
	}
	resp := &adaptors.Response{}
	// Embedding bills input tokens only.
	if u, ok := w.Usage.usage(); ok {
		u = adaptors.Usage{PromptTokens: u.PromptTokens, TotalTokens: u.PromptTokens}
		resp.Usage = &u
		out.Usage = embeddingUsage{PromptTokens: u.PromptTokens, TotalTokens: u.PromptTokens}
	}
	var err error
	if resp.Body, err = marshal(&out); err != nil {
		return nil, invalidResponse("%v", err)
	}
	return resp, nil
}

// embeddingValue checks a float array and returns it as it is, or
// encoded as OpenAI does for encoding_format "base64": little-endian
// float32s, standard base64, as a JSON string.
func embeddingValue(raw json.RawMessage, b64 bool) (json.RawMessage, error) {
	var fs []float64
	if err := openaiwire.API.Unmarshal(raw, &fs); err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, errors.New("empty embedding")
	}
	if !b64 {
		return bytes.TrimSpace(raw), nil
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
