package storage

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitKeys(t *testing.T) {
	sa := "{\n  \"type\": \"service_account\",\n  \"project_id\": \"p\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMII\\n-----END PRIVATE KEY-----\\n\"\n}"
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"sk-a", []string{"sk-a"}},
		{"sk-a\nsk-b\r\n\n  sk-c  \n", []string{"sk-a", "sk-b", "sk-c"}},
		{"", nil},
		{" \n ", nil},
		// A pretty-printed service-account key is one key.
		{"\n" + sa + "\n", []string{sa}},
		// An array of service-account keys: one key per object.
		{`[{"type":"service_account","project_id":"a"}, {"type":"service_account","project_id":"b"}]`,
			[]string{`{"type":"service_account","project_id":"a"}`, `{"type":"service_account","project_id":"b"}`}},
		// Not JSON after all: lines.
		{"{not json\nsk-b", []string{"{not json", "sk-b"}},
		{"[1,2]\nsk-b", []string{"[1,2]", "sk-b"}},
		{"AK|SK|us-east-1", []string{"AK|SK|us-east-1"}},
	} {
		if diff := cmp.Diff(c.want, SplitKeys(c.in)); diff != "" {
			t.Errorf("SplitKeys(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}
