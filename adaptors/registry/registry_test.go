package registry

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/adaptortest"
)

func TestRowsAndLookup(t *testing.T) {
	r := New()
	rows := r.Rows()
	var types []int
	for _, row := range rows {
		types = append(types, row.Type)
		got, ok := r.Lookup(row.Type)
		if !ok || got.Name != row.Name || got.Adaptor != row.Adaptor {
			t.Errorf("Lookup(%d) = %+v, %v", row.Type, got, ok)
		}
		if row.Adaptor == nil || row.Name == "" {
			t.Errorf("type %d: incomplete row", row.Type)
		}
		// The registry's names are the same as ChannelTypeName's.
		if n := ChannelTypeName(row.Type); n != row.Name {
			t.Errorf("type %d: row name %q, ChannelTypeName %q", row.Type, row.Name, n)
		}
	}
	want := []int{1, 3, 8, 14, 15, 16, 17, 18, 19, 20, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 35, 36, 37, 39, 40, 41, 42, 44, 45, 46, 47, 48, 49, 50, 51, 100}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
	}
	if !slices.IsSorted(types) {
		t.Error("Rows not sorted")
	}
	if _, ok := r.Lookup(2); ok {
		t.Error("API2D (2) has no adaptor in this registry, but Lookup found one")
	}
	// Rows returns a copy: modifying it does not change the registry.
	rows[0].Name = "changed"
	if row, _ := r.Lookup(rows[0].Type); row.Name == "changed" {
		t.Error("Rows exposes the registry's slice")
	}
	if row, _ := r.Lookup(1); row.DefaultBaseURL != "https://api.openai.com" {
		t.Errorf("OpenAI base URL %q", row.DefaultBaseURL)
	}
}

func TestChannelTypeName(t *testing.T) {
	for typ, want := range map[int]string{
		0: "Unknown", 1: "OpenAI", 3: "Azure", 14: "Anthropic", 24: "Gemini", 36: "DeepSeek",
		44: "SiliconFlow", 45: "xAI", 50: "OpenAICompatible", 51: "GeminiOpenAICompatible",
		100: "Perplexity", 52: "Unknown", -1: "Unknown", 99: "Unknown",
	} {
		if got := ChannelTypeName(typ); got != want {
			t.Errorf("ChannelTypeName(%d) = %q, want %q", typ, got, want)
		}
	}
}

// TestConformance runs the shared suite over every row that speaks
// OpenAI's dialect at OpenAI's endpoints, with OpenAI's fixtures. The
// other providers run it in their own packages with their own fixtures.
func TestConformance(t *testing.T) {
	for _, row := range New().Rows() {
		t.Run(row.Name, func(t *testing.T) {
			if OwnDialect(row.Type) {
				t.Skip("runs the conformance suite in its own package")
			}
			ch := adaptors.Channel{ID: 7, Type: row.Type, Key: "sk-conformance-key"}
			if row.DefaultBaseURL == "" {
				ch.BaseURL = "https://llm.internal.example"
			}
			model := "gpt-4o"
			if len(row.Models) > 0 {
				model = row.Models[0]
			}
			adaptortest.Run(t, adaptortest.Case{Adaptor: row.Adaptor, Channel: ch, Model: model, Fixtures: adaptortest.OpenAIDialect()})
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	r := New()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := r.Lookup(36); !ok {
			b.Fatal("missing")
		}
	}
}

var updateDocs = flag.Bool("update", false, "rewrite docs/models.md")

// docs/models.md lists every provider's default models as the registry
// offers them; this test keeps it in step (go test -update rewrites it).
func TestModelsDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Default models per channel type\n\n")
	b.WriteString("The models a new channel of each type offers unless the operator lists\n")
	b.WriteString("others (One API's names first where it had them, then current models).\n")
	b.WriteString("Generated from the registry by `go test ./adaptors/registry -update`.\n")
	for _, row := range New().Rows() {
		fmt.Fprintf(&b, "\n## %d — %s\n\n", row.Type, row.Name)
		if row.DefaultBaseURL != "" {
			fmt.Fprintf(&b, "Default base URL: `%s`\n\n", row.DefaultBaseURL)
		} else {
			b.WriteString("No default base URL: the channel sets one.\n\n")
		}
		if len(row.Models) == 0 {
			b.WriteString("No default list: the channel names its models (or fetches them).\n")
			continue
		}
		for _, m := range row.Models {
			fmt.Fprintf(&b, "- `%s`\n", m)
		}
	}
	adaptortest.Golden(t, "../../docs/models.md", []byte(b.String()), *updateDocs)
}
