package cohere

import (
	"bytes"
	"encoding/json"

	"switchyard/adaptors"
	"switchyard/adaptors/internal/openaiwire"
)

// rerankIn is the Cohere/Jina rerank body the gateway serves under
// /v1/rerank: documents are strings or {"text": …} objects.
type rerankIn struct {
	Query           string            `json:"query"`
	Documents       []json.RawMessage `json:"documents"`
	TopN            *int              `json:"top_n"`
	ReturnDocuments bool              `json:"return_documents"`
	MaxTokensPerDoc *int              `json:"max_tokens_per_doc"`
}

// rerankOut is the v2 rerank body (documents are strings only).
type rerankOut struct {
	Model           string   `json:"model"`
	Query           string   `json:"query"`
	Documents       []string `json:"documents"`
	TopN            *int     `json:"top_n,omitempty"`
	MaxTokensPerDoc *int     `json:"max_tokens_per_doc,omitempty"`
}

func buildRerank(req *adaptors.Request) ([]byte, error) {
	var in rerankIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	docs, err := rerankDocuments(in.Documents)
	if err != nil {
		return nil, err
	}
	out := rerankOut{Model: req.Model, Query: in.Query, Documents: docs, TopN: in.TopN, MaxTokensPerDoc: in.MaxTokensPerDoc}
	body, err := marshal(&out)
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	return body, nil
}

// rerankDocuments reads the documents as v2 takes them: strings. A
// {"text": …} object (Jina's and v1's form) gives its text; other objects
// have no v2 form (Cohere asks for structured data as YAML strings).
func rerankDocuments(raws []json.RawMessage) ([]string, error) {
	docs := make([]string, len(raws))
	for i, raw := range raws {
		raw = bytes.TrimSpace(raw)
		var err error
		switch {
		case len(raw) > 0 && raw[0] == '"':
			err = openaiwire.API.Unmarshal(raw, &docs[i])
		case len(raw) > 0 && raw[0] == '{':
			var d struct {
				Text *string `json:"text"`
			}
			if err = openaiwire.API.Unmarshal(raw, &d); err == nil {
				if d.Text == nil {
					return nil, invalidBody("documents[%d]: an object document needs a text member", i)
				}
				docs[i] = *d.Text
			}
		default:
			return nil, invalidBody("documents[%d] must be a string or an object with text", i)
		}
		if err != nil {
			return nil, invalidBody("documents[%d]: %v", i, err)
		}
	}
	return docs, nil
}

// rerankResponse is v2's rerank answer.
type rerankResponse struct {
	ID      json.RawMessage `json:"id"`
	Results []struct {
		Index          int             `json:"index"`
		RelevanceScore json.RawMessage `json:"relevance_score"`
	} `json:"results"`
	Meta    json.RawMessage `json:"meta"`
	Message json.RawMessage `json:"message"`
}

// rerankAnswer is Cohere's answer with each result's document added, the
// shape v1 and the OpenAI-dialect resellers return with
// return_documents.
type rerankAnswer struct {
	ID      json.RawMessage `json:"id,omitempty"`
	Results []rerankResult  `json:"results"`
	Meta    json.RawMessage `json:"meta,omitempty"`
}

type rerankResult struct {
	Document       *rerankDoc      `json:"document,omitempty"`
	Index          int             `json:"index"`
	RelevanceScore json.RawMessage `json:"relevance_score"`
}

type rerankDoc struct {
	Text string `json:"text"`
}

// parseRerank relays Cohere's answer, adding the documents when the
// client asked return_documents. Usage, as for the OpenAI-dialect rerank
// upstreams: input tokens in meta.billed_units are prompt tokens; search
// units (what Cohere bills rerank in) are not tokens and give no usage,
// so the gateway estimates from the request.
func parseRerank(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	var w rerankResponse
	if err := decodeAnswer(body, &w); err != nil {
		return nil, err
	}
	if w.Results == nil {
		if m := bytes.TrimSpace(w.Message); len(m) > 0 && m[0] == '"' {
			return nil, parseError(502, body)
		}
		return nil, invalidResponse("rerank answer has no results")
	}
	resp := &adaptors.Response{Body: body}
	var meta usageWire
	if openaiwire.IsPresent(w.Meta) && openaiwire.DecodeLenient(w.Meta, &meta) == nil && meta.BilledUnits != nil {
		if n := whole(meta.BilledUnits.InputTokens); n > 0 {
			resp.Usage = &adaptors.Usage{PromptTokens: n, TotalTokens: n}
		}
	}
	var in rerankIn
	if openaiwire.DecodeLenient(req.Body, &in) != nil || !in.ReturnDocuments {
		return resp, nil
	}
	docs, err := rerankDocuments(in.Documents)
	if err != nil {
		return resp, nil // BuildRequest accepted this body; keep the answer as is
	}
	out := rerankAnswer{Results: make([]rerankResult, len(w.Results))}
	if out.ID, err = rawJSON(w.ID); err != nil {
		return nil, invalidResponse("id: %v", err)
	}
	if out.Meta, err = rawJSON(w.Meta); err != nil {
		return nil, invalidResponse("meta: %v", err)
	}
	for i, r := range w.Results {
		score, err := rawJSON(r.RelevanceScore)
		if err != nil {
			return nil, invalidResponse("relevance_score: %v", err)
		}
		out.Results[i] = rerankResult{Index: r.Index, RelevanceScore: score}
		if r.Index >= 0 && r.Index < len(docs) {
			out.Results[i].Document = &rerankDoc{Text: docs[r.Index]}
		}
	}
	if resp.Body, err = marshal(&out); err != nil {
		return nil, invalidResponse("%v", err)
	}
	return resp, nil
}
