package bedrock

import (
	"fmt"

	"switchyard/adaptors"
)

// The model list lives on Bedrock's control plane, not the runtime:
// ListFoundationModels, GET https://bedrock.{region}.amazonaws.com/foundation-models,
// signed for service "bedrock" (or sent with the Bedrock API key). It
// answers {"modelSummaries":[{"modelId":…,"outputModalities":[…],…}]}
// (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListFoundationModels.html).
// A channel base URL replaces the control-plane endpoint too.

// ModelsRequest implements adaptors.ModelLister.
func (a *Adaptor) ModelsRequest(ch *adaptors.Channel) (*adaptors.HTTPRequest, error) {
	au, err := channelAuth(ch)
	if err != nil {
		return nil, err
	}
	origin, prefix, host, err := endpoint(ch, &au, "bedrock")
	if err != nil {
		return nil, err
	}
	path := prefix + "/foundation-models"
	b := &requestBuf{}
	b.req.Method = "GET"
	b.req.URL = origin + path
	b.req.Header = a.authorize(b.hdr[:0], &au, signingName, "GET", host, path, nil)
	return &b.req, nil
}

type modelList struct {
	ModelSummaries []struct {
		ModelID          string   `json:"modelId"`
		OutputModalities []string `json:"outputModalities"`
	} `json:"modelSummaries"`
}

// ParseModels implements adaptors.ModelLister: the ids of the models that
// answer text (embedding and image models cannot serve chat), in
// upstream order.
func (a *Adaptor) ParseModels(body []byte) ([]string, error) {
	var l modelList
	if !isObject(body) || copyAPI.Unmarshal(body, &l) != nil || l.ModelSummaries == nil {
		return nil, fmt.Errorf("bedrock: %w: not a ListFoundationModels answer", adaptors.ErrInvalidResponse)
	}
	ids := make([]string, 0, len(l.ModelSummaries))
	for _, m := range l.ModelSummaries {
		if m.ModelID == "" {
			continue
		}
		text := len(m.OutputModalities) == 0
		for _, o := range m.OutputModalities {
			text = text || o == "TEXT"
		}
		if text {
			ids = append(ids, m.ModelID)
		}
	}
	return ids, nil
}
