// Package schema holds the canonical OpenAI wire types the gateway speaks to
// its clients: the error envelope, and (as adaptors need them) request,
// response and stream chunk shapes.
package schema

// Error is an OpenAI-style error. It is rendered as
// {"error":{"message","type","param","code"}} with HTTP status Status.
type Error struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   any    `json:"param"`
	Code    any    `json:"code"`
}

// Error makes *Error usable as a Go error.
func (e *Error) Error() string { return e.Message }

// Envelope is the JSON body that carries an Error.
type Envelope struct {
	Error *Error `json:"error"`
}
