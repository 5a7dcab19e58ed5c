package gemini

import "testing"

func TestErrorBody(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{400, `{"error":{"code":400,"message":"m","status":"INVALID_ARGUMENT"}}`},
		{401, `{"error":{"code":401,"message":"m","status":"UNAUTHENTICATED"}}`},
		{403, `{"error":{"code":403,"message":"m","status":"PERMISSION_DENIED"}}`},
		{404, `{"error":{"code":404,"message":"m","status":"NOT_FOUND"}}`},
		{409, `{"error":{"code":409,"message":"m","status":"ABORTED"}}`},
		{429, `{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED"}}`},
		{499, `{"error":{"code":499,"message":"m","status":"CANCELLED"}}`},
		{500, `{"error":{"code":500,"message":"m","status":"INTERNAL"}}`},
		{501, `{"error":{"code":501,"message":"m","status":"UNIMPLEMENTED"}}`},
		{503, `{"error":{"code":503,"message":"m","status":"UNAVAILABLE"}}`},
		{504, `{"error":{"code":504,"message":"m","status":"DEADLINE_EXCEEDED"}}`},
		{402, `{"error":{"code":402,"message":"m","status":"UNKNOWN"}}`},
		{502, `{"error":{"code":502,"message":"m","status":"UNKNOWN"}}`},
	}
	for _, tt := range tests {
		if got := string(ErrorBody(tt.status, "m")); got != tt.want {
			t.Errorf("ErrorBody(%d) = %s, want %s", tt.status, got, tt.want)
		}
	}
	if got, want := string(ErrorBody(400, "contents: \"x\" <y>\n")), `{"error":{"code":400,"message":"contents: \"x\" <y>\n","status":"INVALID_ARGUMENT"}}`; got != want {
		t.Errorf("escaping: got %s, want %s", got, want)
	}
}
