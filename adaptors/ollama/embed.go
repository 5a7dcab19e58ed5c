package ollama

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/bytedance/sonic"

	"switchyard/adaptors"
)

// oaEmbedRequest is the part of an OpenAI embeddings body the conversion
// reads.
type oaEmbedRequest struct {
	Input          sonic.NoCopyRawMessage `json:"input"`
	Dimensions     *int                   `json:"dimensions"`
	EncodingFormat string                 `json:"encoding_format"`
}

// embedRequest is the body of POST /api/embed.
type embedRequest struct {
	Model      string          `json:"model"`
	Input      json.RawMessage `json:"input"`
	Dimensions int             `json:"dimensions,omitempty"`
	KeepAlive  json.RawMessage `json:"keep_alive,omitempty"`
}

// buildEmbed converts an OpenAI embeddings body to an /api/embed body.
// Ollama embeds text only (a string or an array of strings): token
// arrays are refused.
func buildEmbed(ch *adaptors.Channel, req *adaptors.Request) ([]byte, error) {
	if !isObject(req.Body) {
		return nil, invalid("embeddings body is not a json object")
	}
	var in oaEmbedRequest
	if err := unmarshal(req.Body, &in); err != nil {
		return nil, invalid("%v", err)
	}
	input := bytes.TrimSpace(in.Input)
	switch {
	case !isPresent(input):
		return nil, invalid("input is required")
	case input[0] == '"':
	case input[0] == '[':
		var texts []string
		if err := unmarshal(input, &texts); err != nil {
			return nil, invalid("input: Ollama embeds text only (a string or an array of strings)")
		}
		if len(texts) == 0 {
			return nil, invalid("input must not be empty")
		}
	default:
		return nil, invalid("input must be a string or an array of strings")
	}
	switch in.EncodingFormat {
	case "", "float", "base64":
	default:
		return nil, invalid("encoding_format: unsupported value %q", in.EncodingFormat)
	}
	out := embedRequest{Model: req.Model, Input: json.RawMessage(input), KeepAlive: keepAlive(ch)}
	if in.Dimensions != nil {
		if *in.Dimensions <= 0 {
			return nil, invalid("dimensions must be positive")
		}
		out.Dimensions = *in.Dimensions
	}
	b, err := api.Marshal(&out)
	if err != nil {
		return nil, invalid("%v", err)
	}
	return b, nil
}

// embedWire is the answer of /api/embed. Vectors stay raw so that the
// numbers reach the client exactly as Ollama wrote them.
type embedWire struct {
	Embeddings      []sonic.NoCopyRawMessage `json:"embeddings"`
	PromptEvalCount int                      `json:"prompt_eval_count"`
	Error           sonic.NoCopyRawMessage   `json:"error"`
	Status          int                      `json:"status"`
}

// parseEmbed converts an /api/embed answer to OpenAI's embeddings list,
// usage prompt_tokens = prompt_eval_count. When the client asked for
// encoding_format "base64" (the OpenAI Python SDK's default), each
// vector is encoded as OpenAI does: little-endian float32s in base64.
func parseEmbed(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	if !isObject(body) {
		return nil, fmt.Errorf("ollama: %w: not a json object", adaptors.ErrInvalidResponse)
	}
	var w embedWire
	if err := decode(body, &w); err != nil {
		return nil, fmt.Errorf("ollama: %w: %v", adaptors.ErrInvalidResponse, err)
	}
	if isPresent(w.Error) {
		cw := chatWire{Error: w.Error, Status: w.Status}
		return nil, embeddedError(&cw)
	}
	if w.Embeddings == nil {
		return nil, fmt.Errorf("ollama: %w: answer has no embeddings", adaptors.ErrInvalidResponse)
	}
	b64 := wantsBase64(req.Body)
	size := 128
	for _, v := range w.Embeddings {
		size += len(v) + 48
	}
	out := make([]byte, 0, size)
	out = append(out, `{"object":"list","data":[`...)
	for i, v := range w.Embeddings {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"object":"embedding","index":`...)
		out = strconv.AppendInt(out, int64(i), 10)
		out = append(out, `,"embedding":`...)
		var err error
		if out, err = appendVector(out, v, b64); err != nil {
			return nil, fmt.Errorf("ollama: %w: embeddings[%d]: %v", adaptors.ErrInvalidResponse, i, err)
		}
		out = append(out, '}')
	}
	out = append(out, `],"model":`...)
	out = appendString(out, clientModel(req))
	resp := &adaptors.Response{}
	if w.PromptEvalCount > 0 {
		resp.Usage = &adaptors.Usage{PromptTokens: w.PromptEvalCount, TotalTokens: w.PromptEvalCount}
		out = append(out, `,"usage":{"prompt_tokens":`...)
		out = strconv.AppendInt(out, int64(w.PromptEvalCount), 10)
		out = append(out, `,"total_tokens":`...)
		out = strconv.AppendInt(out, int64(w.PromptEvalCount), 10)
		out = append(out, '}')
	}
	resp.Body = append(out, '}')
	return resp, nil
}

// wantsBase64 reports whether the client's embeddings body asked for
// encoding_format "base64".
func wantsBase64(body []byte) bool {
	var v struct {
		EncodingFormat string `json:"encoding_format"`
	}
	return isObject(body) && decode(body, &v) == nil && v.EncodingFormat == "base64"
}

// appendVector appends one vector: the raw JSON array (compacted), or
// its base64 float32 encoding.
func appendVector(dst []byte, raw sonic.NoCopyRawMessage, b64 bool) ([]byte, error) {
	raw = sonic.NoCopyRawMessage(bytes.TrimSpace(raw))
	if len(raw) == 0 || raw[0] != '[' {
		return nil, fmt.Errorf("not an array")
	}
	if !b64 {
		n := len(dst)
		buf := bytes.NewBuffer(dst)
		if err := json.Compact(buf, raw); err != nil {
			return dst[:n], err
		}
		return buf.Bytes(), nil
	}
	var fs []float64
	if err := unmarshal(raw, &fs); err != nil {
		return nil, err
	}
	bin := make([]byte, 4*len(fs))
	for i, f := range fs {
		binary.LittleEndian.PutUint32(bin[4*i:], math.Float32bits(float32(f)))
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, bin)
	return append(dst, '"'), nil
}
