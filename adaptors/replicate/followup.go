package replicate

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// Polling delays of a non-stream prediction that sync mode did not see
// finish: the first poll after pollFirst, each next one after twice the
// previous, never more than pollMax apart. Language-model predictions
// that outlast sync mode's 60 seconds are long ones, so a poll every two
// seconds adds little latency and keeps well inside Replicate's rate
// limit. The transport bounds the number of polls and the total time.
const (
	pollFirst = 500 * time.Millisecond
	pollMax   = 2 * time.Second
)

// pollDelay returns the wait before the poll that follows call step.
func pollDelay(step int) time.Duration {
	d := pollFirst
	for i := 1; i < step && d < pollMax; i++ {
		d *= 2
	}
	return min(d, pollMax)
}

// FollowUp implements adaptors.FollowUpper. Every 2xx answer before the
// final one is a prediction object:
//
//   - stream request, step 1 (the created prediction): read its stream
//     URL (GET urls.stream, `Accept: text/event-stream`, `Cache-Control:
//     no-store`, with the token, as Replicate's clients do), at once. A
//     prediction without a stream URL belongs to a model that does not
//     stream. A later step means the stream URL answered something other
//     than an event stream, which is an invalid answer.
//   - non-stream request: "succeeded" is final (nil: body goes to
//     ParseResponse); "failed" and "canceled" are the prediction's error;
//     "starting" and "processing" are polled (GET urls.get) after
//     pollDelay.
//
// URLs in a prediction are absolute. With a channel base URL their origin
// is replaced by it, so every call goes where the channel points (a
// proxy, or the mock in tests); without one, only https URLs on
// replicate.com and its subdomains are followed, so that the channel's
// token is never sent elsewhere.
func (a *Adaptor) FollowUp(ch *adaptors.Channel, req *adaptors.Request, step int, body []byte) (*adaptors.HTTPRequest, time.Duration, error) {
	if req.Stream && step > 1 {
		return nil, 0, fmt.Errorf("replicate: %w: the stream URL did not answer an event stream", adaptors.ErrInvalidResponse)
	}
	p, err := decodePrediction(body)
	if err != nil {
		return nil, 0, err
	}
	switch p.Status {
	case statusFailed, statusCanceled:
		return nil, 0, predictionError(p)
	case statusStarting, statusProcessing, statusSucceeded:
	default:
		return nil, 0, fmt.Errorf("replicate: %w: unknown prediction status %q", adaptors.ErrInvalidResponse, p.Status)
	}
	if req.Stream {
		if p.URLs.Stream == "" {
			return nil, 0, &schema.Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "stream_unsupported",
				Message: "replicate: model " + req.Model + " does not stream its output; send the request without stream"}
		}
		u, err := followURL(ch, p.URLs.Stream)
		if err != nil {
			return nil, 0, err
		}
		return &adaptors.HTTPRequest{Method: "GET", URL: u, Header: []adaptors.Header{
			{Key: "Authorization", Value: "Bearer " + ch.Key},
			{Key: "Accept", Value: "text/event-stream"},
			{Key: "Cache-Control", Value: "no-store"},
		}}, 0, nil
	}
	if p.Status == statusSucceeded {
		return nil, 0, nil
	}
	var u string
	if p.URLs.Get != "" {
		u, err = followURL(ch, p.URLs.Get)
		if err != nil {
			return nil, 0, err
		}
	} else if isID(p.ID) {
		u = base(ch) + "/v1/predictions/" + p.ID
	} else {
		return nil, 0, fmt.Errorf("replicate: %w: unfinished prediction without an id or a get URL", adaptors.ErrInvalidResponse)
	}
	return &adaptors.HTTPRequest{Method: "GET", URL: u, Header: []adaptors.Header{
		{Key: "Authorization", Value: "Bearer " + ch.Key},
	}}, pollDelay(step), nil
}

// followURL checks (default origin) or rewrites (channel base URL) an
// absolute URL taken from a prediction.
func followURL(ch *adaptors.Channel, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return "", fmt.Errorf("replicate: %w: bad URL %q in prediction", adaptors.ErrInvalidResponse, raw)
	}
	rest := u.EscapedPath()
	if u.RawQuery != "" {
		rest += "?" + u.RawQuery
	}
	if ch.BaseURL != "" {
		return base(ch) + rest, nil
	}
	host := u.Hostname()
	if u.Scheme != "https" || (host != "replicate.com" && !strings.HasSuffix(host, ".replicate.com")) {
		return "", fmt.Errorf("replicate: %w: refusing to send the token to %q", adaptors.ErrInvalidResponse, raw)
	}
	return u.Scheme + "://" + u.Host + rest, nil
}
