package adaptors

import (
	"errors"
	"time"
)

// Sentinel errors an adaptor wraps (with %w) so the transport can map them
// to a client answer without string matching.
var (
	// ErrUnsupportedMode: the provider does not serve this API surface
	// (e.g. embeddings on MiniMax). The transport answers 501/400 and may try
	// another channel.
	ErrUnsupportedMode = errors.New("adaptors: mode not supported by provider")
	// ErrNoBaseURL: the channel has no base URL and the provider has no
	// default (custom OpenAI-compatible channels).
	ErrNoBaseURL = errors.New("adaptors: channel has no base url")
	// ErrInvalidBody: the client body is not a JSON object, so it cannot be
	// rewritten. The transport answers 400.
	ErrInvalidBody = errors.New("adaptors: request body is not a json object")
	// ErrInvalidResponse: a 2xx upstream body that is not the JSON the
	// protocol promises. The transport treats it as an upstream failure.
	ErrInvalidResponse = errors.New("adaptors: invalid upstream response")
)

// Balance is an upstream account's remaining credit.
type Balance struct {
	Amount float64
	// Currency is an ISO 4217 code ("USD", "CNY"), as the provider bills.
	Currency string
}

// BalanceQuerier is the optional capability to ask a provider for the
// remaining credit of a channel's key (One API's "update balance").
//
// The query may take several dependent upstream calls (OpenAI's dashboard
// needs the subscription before it knows which usage window to ask for), so
// it is a small state machine driven by the caller:
//
//	var answers [][]byte
//	for {
//		req, err := q.NextBalanceRequest(ch, now, answers)
//		if err != nil || req == nil { break }
//		answers = append(answers, do(req)) // 2xx bodies only
//	}
//	bal, err := q.ParseBalance(answers)
//
// now is passed in (adaptors never read the clock) and must be the same for
// every step of one query. Implementations are pure and safe for concurrent
// use.
type BalanceQuerier interface {
	// NextBalanceRequest returns the request for step len(answers), or nil
	// when the answers collected so far are enough for ParseBalance.
	NextBalanceRequest(ch *Channel, now time.Time, answers [][]byte) (*HTTPRequest, error)
	// ParseBalance computes the balance from the answers of every step.
	ParseBalance(answers [][]byte) (Balance, error)
}

// ModelLister is the optional capability to fetch the models a channel's
// key can use (One API's "fetch model list" button). Pure and safe for
// concurrent use.
type ModelLister interface {
	// ModelsRequest describes the upstream model-list call.
	ModelsRequest(ch *Channel) (*HTTPRequest, error)
	// ParseModels extracts model ids from a 2xx answer, in upstream order.
	ParseModels(body []byte) ([]string, error)
}

// TypedResponseParser is the optional capability to convert a non-stream
// answer knowing the upstream's Content-Type header. Some API surfaces
// answer with something other than JSON — binary audio from
// /v1/audio/speech, plain text, SRT or WebVTT transcripts from
// /v1/audio/transcriptions — and the type is what tells them apart and what
// the client must be sent.
//
// The transport uses it in place of Adaptor.ParseResponse when the
// adaptor implements it:
//
//	if tp, ok := ad.(adaptors.TypedResponseParser); ok {
//		resp, err = tp.ParseTypedResponse(req, upstreamContentType, body)
//	} else {
//		resp, err = ad.ParseResponse(req, body)
//	}
//
// and answers the client with resp.ContentType (application/json when
// empty). Adaptors that only ever see JSON need not implement it.
// Implementations are pure and safe for concurrent use.
type TypedResponseParser interface {
	// ParseTypedResponse converts a successful (2xx) non-stream upstream
	// body whose Content-Type header was contentType (empty when the
	// upstream sent none). It returns what ParseResponse would, with
	// ContentType, Text and Images filled from the typed body.
	ParseTypedResponse(req *Request, contentType string, body []byte) (*Response, error)
}

// AccessToken is a short-lived upstream credential obtained by exchanging
// the channel's long-lived one.
type AccessToken struct {
	Value string
	// Expires is when the upstream stops accepting Value.
	Expires time.Time
}

// TokenExchanger is the optional capability of adaptors whose upstream
// wants a short-lived access token that the channel's credential is
// exchanged for (Vertex AI: the service-account key signs a JWT that
// Google's token endpoint exchanges for an OAuth access token).
//
// The transport makes the exchange, caches the token per channel and key
// until shortly before it expires, makes one exchange for any number of
// concurrent requests that need it, and hands the token to BuildRequest in
// Channel.AccessToken. Implementations are pure and safe for concurrent
// use; now is passed in because adaptors never read the clock.
type TokenExchanger interface {
	// TokenRequest describes the exchange call for ch.
	TokenRequest(ch *Channel, now time.Time) (*HTTPRequest, error)
	// ParseToken reads the exchange's answer (status and body); now is the
	// time the exchange was made.
	ParseToken(status int, body []byte, now time.Time) (AccessToken, error)
}

// ImageInliner is the optional capability of adaptors whose upstream takes
// chat images only as inline data (Anthropic, Gemini, Bedrock, Ollama).
// When InlinesImages reports true for a chat request, the transport
// downloads every http(s) image_url of its messages — bounded in size and
// time, with private and loopback addresses refused unless the operator
// allows them — and hands the adaptor a body whose image URLs are data:
// URLs. Adaptors never fetch anything themselves.
type ImageInliner interface {
	InlinesImages(ch *Channel, req *Request) bool
}

// FollowUpper is the optional capability of adaptors whose upstream
// answers in several steps (Replicate: the prediction is created, then
// polled or its stream URL read). The transport reads every 2xx answer
// whole and asks FollowUp for the next call (step counts the calls made
// so far, from 1), except an answer with Content-Type text/event-stream
// to a stream request, which is the stream and goes to NewStreamDecoder.
// A nil next request means body is the final answer, for ParseResponse.
// Delay is how long to wait before making the next call (polling). The
// transport bounds the number of steps and the total time. Pure and safe
// for concurrent use.
type FollowUpper interface {
	FollowUp(ch *Channel, req *Request, step int, body []byte) (next *HTTPRequest, delay time.Duration, err error)
}

// TokenMinter is the optional capability of adaptors whose upstream wants
// a short-lived token the adaptor makes itself from the channel's
// credential, with no call (Zhipu: an HS256 JWT signed with the key's
// secret). The transport caches the token per channel and key until
// shortly before it expires, mints once for concurrent requests, and
// hands it to BuildRequest in Channel.AccessToken, as for
// TokenExchanger. An adaptor implements one of the two, not both. Pure
// and safe for concurrent use; now is passed in.
type TokenMinter interface {
	MintToken(ch *Channel, now time.Time) (AccessToken, error)
}

// SocketCall describes an upstream call over a WebSocket: the URL to dial
// (ws:// or wss://, already signed when the provider signs it), headers
// for the upgrade request, and the text frames to send once connected.
type SocketCall struct {
	URL    string
	Header []Header
	Frames [][]byte
}

// SocketDialer is the optional capability of adaptors whose upstream
// speaks over a WebSocket (Xunfei Spark). The transport prefers it to
// BuildRequest: it dials SocketCall.URL, sends the frames, and reads the
// upstream's text frames until the upstream closes the connection (or
// the decoder ends). It presents what it read as one body in which every
// text frame is followed by a newline — to NewStreamDecoder for a stream
// request, frame by frame as they arrive, and whole to ParseResponse
// otherwise — so the adaptor's decoders see newline-delimited JSON. A
// failed upgrade is passed to ParseError with the HTTP status and body
// of the refusal. now is passed in for URL signing (adaptors never read
// the clock). Pure and safe for concurrent use.
type SocketDialer interface {
	SocketRequest(ch *Channel, req *Request, now time.Time) (*SocketCall, error)
}
