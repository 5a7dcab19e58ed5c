package openai

import (
	"github.com/bytedance/sonic"

	"switchyard/adaptors"
)

// imagesWire picks out of an ImagesResponse what the gateway needs: the
// number of images (each element is skipped, not built) and an error
// smuggled into a 2xx body.
type imagesWire struct {
	Data     []struct{}             `json:"data"`
	Error    sonic.NoCopyRawMessage `json:"error"`
	BaseResp *baseResp              `json:"base_resp"`
}

// parseImages converts an images answer (generations, edits, variations).
// The body is relayed untouched. Images are billed per image, so the
// answer reports Images = len(data) and no token usage, even when a GPT
// image model adds a usage object.
func (a *Adaptor) parseImages(body []byte) (*adaptors.Response, error) {
	var w imagesWire
	if err := a.decodeAnswer(body, &w); err != nil {
		return nil, err
	}
	if e := a.embeddedError(body, w.Error, w.BaseResp); e != nil {
		return nil, e
	}
	return &adaptors.Response{Body: body, Images: len(w.Data)}, nil
}
