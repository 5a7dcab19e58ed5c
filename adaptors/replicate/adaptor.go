package replicate

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// DefaultBaseURL is Replicate's API origin; paths below include /v1.
const DefaultBaseURL = "https://api.replicate.com"

// ConfigWait is the channel config key that sets how many seconds (1–60)
// Replicate holds a non-stream request open before answering the
// unfinished prediction (`Prefer: wait=N`). Unset means `Prefer: wait`,
// Replicate's default of 60 seconds; a channel whose first-byte timeout is
// shorter than that should set it below the timeout, so that the gateway
// polls instead of giving up.
const ConfigWait = "wait"

// Models returns the default model list of a Replicate channel: official
// language models (https://replicate.com/collections/language-models),
// which run on the models endpoint without a version id. The caller owns
// the slice.
func Models() []string {
	return []string{
		"meta/meta-llama-3.1-405b-instruct",
		"meta/meta-llama-3-70b-instruct",
		"meta/meta-llama-3-8b-instruct",
		"anthropic/claude-4-sonnet",
		"openai/gpt-4o-mini",
		"openai/gpt-4.1-mini",
		"openai/o4-mini",
	}
}

// Adaptor speaks Replicate's predictions API. It holds no state and is
// safe for concurrent use; besides adaptors.Adaptor it implements
// adaptors.FollowUpper (followup.go).
type Adaptor struct{}

// New returns the Replicate adaptor.
func New() *Adaptor { return &Adaptor{} }

// base returns the channel's base URL without a trailing slash, or the
// default.
func base(ch *adaptors.Channel) string {
	if ch.BaseURL != "" {
		return strings.TrimRight(ch.BaseURL, "/")
	}
	return DefaultBaseURL
}

// modelRef is a model name split as Replicate addresses it.
type modelRef struct {
	owner, name string
	// version is the version id of "owner/name:version", empty for an
	// official model run on its latest version.
	version string
}

// parseModel splits "owner/name" or "owner/name:version". Owners and
// names are Replicate's slugs (letters, digits, '-', '_', '.') and
// versions are ids (letters and digits), so the parts go into a URL path
// as they are; anything else is refused rather than escaped, because a
// name that needs escaping is not a Replicate model.
func parseModel(model string) (modelRef, error) {
	full, version, hasVersion := strings.Cut(model, ":")
	owner, name, ok := strings.Cut(full, "/")
	if !ok || !isSlug(owner) || !isSlug(name) || (hasVersion && !isID(version)) {
		return modelRef{}, fmt.Errorf("replicate: %w: model %q is not owner/name or owner/name:version", adaptors.ErrInvalidBody, model)
	}
	return modelRef{owner: owner, name: name, version: version}, nil
}

func isSlug(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func isID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// preferHeader returns the Prefer header of a non-stream create call.
func preferHeader(ch *adaptors.Channel) (string, error) {
	v := ch.Config[ConfigWait]
	if v == "" {
		return "wait", nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 60 {
		return "", fmt.Errorf("replicate: channel config %q must be a number of seconds from 1 to 60, got %q", ConfigWait, v)
	}
	return "wait=" + strconv.Itoa(n), nil
}

// BuildRequest implements adaptors.Adaptor: the create-prediction call.
// An official model ("owner/name") runs on POST
// /v1/models/{owner}/{name}/predictions, a pinned version
// ("owner/name:version") on POST /v1/predictions with the version id. A
// non-stream request asks for sync mode (`Prefer: wait`), so a short
// answer comes back finished in this one call; a stream request sets
// "stream": true and reads the prediction's stream URL next (FollowUp).
// Only chat is served.
func (a *Adaptor) BuildRequest(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	if req.Mode != adaptors.ModeChat {
		return nil, fmt.Errorf("replicate: %s: %w", req.Mode, adaptors.ErrUnsupportedMode)
	}
	ref, err := parseModel(req.Model)
	if err != nil {
		return nil, err
	}
	in, err := buildInput(req.Body, familyOf(ref.owner))
	if err != nil {
		return nil, err
	}
	body := createBody{Version: ref.version, Input: in, Stream: req.Stream}
	out := &adaptors.HTTPRequest{Method: "POST", Body: marshal(&body)}
	if ref.version == "" {
		out.URL = base(ch) + "/v1/models/" + ref.owner + "/" + ref.name + "/predictions"
	} else {
		out.URL = base(ch) + "/v1/predictions"
	}
	out.Header = make([]adaptors.Header, 0, 3)
	out.Header = append(out.Header,
		adaptors.Header{Key: "Authorization", Value: "Bearer " + ch.Key},
		adaptors.Header{Key: "Content-Type", Value: "application/json"})
	if !req.Stream {
		prefer, err := preferHeader(ch)
		if err != nil {
			return nil, err
		}
		out.Header = append(out.Header, adaptors.Header{Key: "Prefer", Value: prefer})
	}
	return out, nil
}

// ParseResponse implements adaptors.Adaptor: the final, succeeded
// prediction becomes a chat.completion (chat.go).
func (a *Adaptor) ParseResponse(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	return parseResponse(req, body)
}

// NewStreamDecoder implements adaptors.Adaptor: the body is the event
// stream read from the prediction's stream URL (stream.go).
func (a *Adaptor) NewStreamDecoder(req *adaptors.Request, body io.Reader) adaptors.StreamDecoder {
	return newStreamDecoder(req, body)
}

// ParseError implements adaptors.Adaptor (errors.go).
func (a *Adaptor) ParseError(status int, body []byte) *schema.Error {
	return parseError(status, body)
}
