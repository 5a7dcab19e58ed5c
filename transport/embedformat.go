package transport

import (
	"encoding/base64"
	"encoding/binary"
	"math"

	"github.com/bytedance/sonic"
)

// wantsBase64 reports whether an embeddings request asked for
// encoding_format "base64".
func wantsBase64(body []byte) bool {
	n, err := sonic.Get(body, "encoding_format")
	if err != nil {
		return false
	}
	s, _ := n.String()
	return s == "base64"
}

// embeddingFormat returns an embeddings response with every embedding in
// the format the client asked for: base64 (little-endian float32, as
// OpenAI encodes it) or an array of numbers. Upstreams that ignore
// encoding_format answer in one or the other; a body already in the right
// format, or one it cannot read, is returned unchanged.
func embeddingFormat(body []byte, toBase64 bool) []byte {
	var resp map[string]any
	if err := sonic.Unmarshal(body, &resp); err != nil {
		return body
	}
	data, _ := resp["data"].([]any)
	changed := false
	for _, d := range data {
		item, ok := d.(map[string]any)
		if !ok {
			continue
		}
		switch e := item["embedding"].(type) {
		case []any:
			if !toBase64 {
				continue
			}
			buf := make([]byte, 4*len(e))
			for i, v := range e {
				f, _ := v.(float64)
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(f)))
			}
			item["embedding"] = base64.StdEncoding.EncodeToString(buf)
			changed = true
		case string:
			if toBase64 {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(e)
			if err != nil || len(raw)%4 != 0 {
				return body
			}
			fs := make([]float64, len(raw)/4)
			for i := range fs {
				fs[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			}
			item["embedding"] = fs
			changed = true
		}
	}
	if !changed {
		return body
	}
	out, err := sonic.Marshal(resp)
	if err != nil {
		return body
	}
	return out
}
