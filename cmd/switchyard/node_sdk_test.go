package main

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// nodeScript locates a script of e2e/node and its installed packages. The
// test is skipped when Node.js or the packages are missing, unless
// SWITCHYARD_REQUIRE_NODE=1 (make test sets it after `npm ci`), so that
// CI can never skip it silently.
func nodeScript(t *testing.T, name string) (node, script string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "e2e", "node"))
	if err != nil {
		t.Fatal(err)
	}
	node, err = exec.LookPath("node")
	_, statErr := os.Stat(filepath.Join(dir, "node_modules", "openai", "package.json"))
	if err != nil || statErr != nil {
		if os.Getenv("SWITCHYARD_REQUIRE_NODE") == "1" {
			t.Fatalf("Node.js or e2e/node's packages are missing (run npm ci --prefix e2e/node): %v %v", err, statErr)
		}
		t.Skip("Node.js or e2e/node/node_modules missing (npm ci --prefix e2e/node)")
	}
	return node, filepath.Join(dir, name)
}

// Issue 4, acceptance 1 (JavaScript half): the official `openai` npm
// package on Node drives every OpenAI route; the charges add up to the
// documented formulas.
func TestOpenAIRoutesWithNodeSDK(t *testing.T) {
	node, script := nodeScript(t, "openai-routes.mjs")
	g, _, uid, key := routesSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	// A scrubbed environment: the SDK reads OPENAI_* variables.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"SWITCHYARD_BASE=" + g.base + "/v1", "SWITCHYARD_KEY=sk-" + key}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("node printed:\n%s", out)
	}
	transcript := int64((len(mockTranscript)+3)/4) * 15
	want := int64(chatCharge+streamCharge+embedCharge) +
		2*20*1000 + 10*1.125*1000 + 3*10*1000 + // dall-e-3 ×2, dall-e-2 edit 512², variations ×3 at 256²
		int64(math.Ceil(float64(utf8.RuneCountInString("Hello, wörld! 你好"))*7.5)) + // tts-1
		3*transcript + // transcription (json and srt) and translation
		int64(math.Ceil((36+87*2)*1.5)) + int64(math.Ceil((37+11*2)*1.5)) // responses, and its stream
	if got := billedSince(t, g, uid, 0); got != want {
		t.Fatalf("the Node run was billed %d, want %d", got, want)
	}
}
