package storage

import (
	"encoding/json"
	"strings"

	"github.com/bytedance/sonic"
)

// SplitKeys returns the keys of a channel's key field: one per line — but
// a key that is a JSON object (a service-account key, pretty-printed over
// many lines) is one key, and a JSON array of objects is one key per
// object (several service accounts in one multi-key channel).
func SplitKeys(key string) []string {
	t := strings.TrimSpace(key)
	if strings.HasPrefix(t, "{") && sonic.ValidString(t) {
		return []string{t}
	}
	if strings.HasPrefix(t, "[") {
		var objs []json.RawMessage
		if sonic.UnmarshalString(t, &objs) == nil && len(objs) > 0 {
			out := make([]string, 0, len(objs))
			for _, o := range objs {
				if len(o) == 0 || o[0] != '{' {
					out = nil
					break
				}
				out = append(out, string(o))
			}
			if out != nil {
				return out
			}
		}
	}
	var out []string
	for _, k := range strings.Split(key, "\n") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}
