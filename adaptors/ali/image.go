package ali

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"switchyard/adaptors"
	"switchyard/adaptors/schema"
)

// Task statuses of DashScope's asynchronous tasks.
const (
	taskPending   = "PENDING"
	taskRunning   = "RUNNING"
	taskSucceeded = "SUCCEEDED"
	taskFailed    = "FAILED"
	taskCanceled  = "CANCELED"
	taskUnknown   = "UNKNOWN"
)

// Polling delays of an image task: the first poll after pollFirst, each
// next one after twice the previous, never more than pollMax apart. Wanx
// and Qwen-Image tasks take several seconds to tens of seconds; the
// transport bounds the number of polls and the total time.
const (
	pollFirst = time.Second
	pollMax   = 4 * time.Second
)

// pollDelay returns the wait before the poll that follows call step.
func pollDelay(step int) time.Duration {
	d := pollFirst
	for i := 1; i < step && d < pollMax; i++ {
		d *= 2
	}
	return min(d, pollMax)
}

// imageIn is the part of an OpenAI image generation body DashScope can
// express, plus its negative_prompt for clients that know it.
type imageIn struct {
	Prompt         string `json:"prompt"`
	N              *int   `json:"n"`
	Size           string `json:"size"`
	ResponseFormat string `json:"response_format"`
	NegativePrompt string `json:"negative_prompt"`
}

// imageOut is the text2image task body.
type imageOut struct {
	Model      string          `json:"model"`
	Input      imageInput      `json:"input"`
	Parameters imageParameters `json:"parameters"`
}

type imageInput struct {
	Prompt         string `json:"prompt"`
	NegativePrompt string `json:"negative_prompt,omitempty"`
}

type imageParameters struct {
	Size string `json:"size,omitempty"`
	N    int    `json:"n,omitempty"`
}

// buildImage describes the creation of a text-to-image task (POST
// …/text2image/image-synthesis with X-DashScope-Async: enable). One API's
// "ali-" model names (ali-stable-diffusion-xl) lose their prefix. OpenAI's
// size "1024x1024" is DashScope's "1024*1024"; "auto" leaves the model's
// default. The answer is the task; FollowUp polls it.
func buildImage(ch *adaptors.Channel, req *adaptors.Request) (*adaptors.HTTPRequest, error) {
	var in imageIn
	if err := decodeBody(req.Body, &in); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Prompt) == "" {
		return nil, invalidBody("prompt is required")
	}
	switch in.ResponseFormat {
	case "", "url", "b64_json":
		// b64_json cannot be asked of DashScope, which answers URLs only;
		// they are returned as URLs (see doc.go).
	default:
		return nil, invalidBody("response_format %q is not supported", in.ResponseFormat)
	}
	model := strings.TrimPrefix(req.Model, "ali-")
	if model == "" {
		return nil, invalidBody("no model")
	}
	out := imageOut{Model: model, Input: imageInput{Prompt: in.Prompt, NegativePrompt: in.NegativePrompt}}
	size, err := imageSize(in.Size)
	if err != nil {
		return nil, err
	}
	out.Parameters.Size = size
	if in.N != nil {
		if *in.N < 1 {
			return nil, invalidBody("n must be at least 1")
		}
		out.Parameters.N = *in.N
	}
	body, err := marshal(&out)
	if err != nil {
		return nil, invalidBody("%v", err)
	}
	hr := newRequest(ch, "POST", imagePath, body)
	hr.Header = append(hr.Header, adaptors.Header{Key: "X-DashScope-Async", Value: "enable"})
	return hr, nil
}

// imageSize converts OpenAI's "WxH" to DashScope's "W*H" ("W*H" is kept).
func imageSize(s string) (string, error) {
	if s == "" || s == "auto" {
		return "", nil
	}
	w, h, ok := strings.Cut(s, "x")
	if !ok {
		w, h, ok = strings.Cut(s, "*")
	}
	if !ok || !digits(w) || !digits(h) {
		return "", invalidBody(`size %q is not "WIDTHxHEIGHT"`, s)
	}
	return w + "*" + h, nil
}

func digits(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// taskWire is a task answer: the creation's and every poll's.
type taskWire struct {
	RequestID string `json:"request_id"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Output    *struct {
		TaskID     string `json:"task_id"`
		TaskStatus string `json:"task_status"`
		Code       string `json:"code"`
		Message    string `json:"message"`
		Results    []struct {
			URL          string `json:"url"`
			ActualPrompt string `json:"actual_prompt"`
		} `json:"results"`
		// Qwen-Image answers in the multimodal shape.
		Choices []struct {
			Message struct {
				Content []struct {
					Image string `json:"image"`
				} `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	} `json:"output"`
}

// FollowUp implements adaptors.FollowUpper. Chat and embeddings answer in
// one call (nil: the body is final). An image task is polled with GET
// /api/v1/tasks/{task_id} while it is PENDING or RUNNING; SUCCEEDED is
// final (ParseResponse converts it); FAILED, CANCELED and UNKNOWN (an
// expired or unknown task) are the task's error.
func (a *Adaptor) FollowUp(ch *adaptors.Channel, req *adaptors.Request, step int, body []byte) (*adaptors.HTTPRequest, time.Duration, error) {
	if req.Mode != adaptors.ModeImagesGenerations {
		return nil, 0, nil
	}
	t, err := decodeTask(body)
	if err != nil {
		return nil, 0, err
	}
	switch t.Output.TaskStatus {
	case taskSucceeded:
		return nil, 0, nil
	case taskPending, taskRunning:
	default:
		return nil, 0, taskError(t)
	}
	if !isTaskID(t.Output.TaskID) {
		return nil, 0, invalidResponse("unfinished task without a valid task_id")
	}
	return newRequest(ch, "GET", taskPath+t.Output.TaskID, nil), pollDelay(step), nil
}

// decodeTask decodes a task answer; one carrying an error code is the
// error.
func decodeTask(body []byte) (*taskWire, error) {
	var t taskWire
	if err := decodeAnswer(body, &t); err != nil {
		return nil, err
	}
	if t.Code != "" {
		return nil, answerError(t.Code, t.Message, t.RequestID)
	}
	if t.Output == nil || t.Output.TaskStatus == "" {
		return nil, invalidResponse("task answer has no output.task_status")
	}
	return &t, nil
}

// taskError is the error of a task that ended without images.
func taskError(t *taskWire) error {
	o := t.Output
	switch o.TaskStatus {
	case taskFailed:
		if o.Code == "" && o.Message == "" {
			return answerError("", "ali: image task "+o.TaskID+" failed", t.RequestID)
		}
		return answerError(o.Code, o.Message, t.RequestID)
	case taskCanceled:
		return &schema.Error{Status: http.StatusInternalServerError, Type: typeServer, Code: "task_canceled",
			Message: "ali: image task " + o.TaskID + " was canceled"}
	case taskUnknown:
		return &schema.Error{Status: http.StatusBadGateway, Type: typeServer, Code: "task_unknown",
			Message: "ali: image task " + o.TaskID + " is unknown to DashScope (expired or never created)"}
	}
	return invalidResponse("unknown task status %q", o.TaskStatus)
}

// isTaskID reports whether s can go into the task path as it is (task ids
// are UUIDs).
func isTaskID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// imagesResponse is OpenAI's ImagesResponse.
type imagesResponse struct {
	Created int64       `json:"created"`
	Data    []imageData `json:"data"`
}

type imageData struct {
	URL           string `json:"url"`
	RevisedPrompt string `json:"revised_prompt,omitempty"`
}

// parseImage converts the final (SUCCEEDED) task to OpenAI's
// ImagesResponse: one entry per result URL (results that failed carry no
// URL and are left out), the prompt DashScope rewrote as revised_prompt.
// Images counts them, which is what image generation is billed by.
func parseImage(req *adaptors.Request, body []byte) (*adaptors.Response, error) {
	t, err := decodeTask(body)
	if err != nil {
		return nil, err
	}
	if t.Output.TaskStatus != taskSucceeded {
		if t.Output.TaskStatus == taskPending || t.Output.TaskStatus == taskRunning {
			return nil, invalidResponse("image task %s is still %s", t.Output.TaskID, t.Output.TaskStatus)
		}
		return nil, taskError(t)
	}
	out := imagesResponse{Created: req.Created, Data: []imageData{}}
	for _, r := range t.Output.Results {
		if r.URL != "" {
			out.Data = append(out.Data, imageData{URL: r.URL, RevisedPrompt: r.ActualPrompt})
		}
	}
	for _, c := range t.Output.Choices {
		for _, item := range c.Message.Content {
			if item.Image != "" {
				out.Data = append(out.Data, imageData{URL: item.Image})
			}
		}
	}
	if len(out.Data) == 0 {
		return nil, answerError("", fmt.Sprintf("ali: image task %s succeeded without an image", t.Output.TaskID), t.RequestID)
	}
	b, err := marshal(&out)
	if err != nil {
		return nil, invalidResponse("%v", err)
	}
	return &adaptors.Response{Body: b, Images: len(out.Data)}, nil
}
