package main

import (
	"os/exec"
	"strings"
	"testing"
)

// allowedImports is the layering of DESIGN.md: which of our top-level
// packages each may import. Arrows point one way; adaptors stand alone.
var allowedImports = map[string][]string{
	"storage":   {},
	"cluster":   {"storage"},
	"adaptors":  {"adaptors"},
	"actors":    {"storage", "adaptors"},
	"transport": {"actors", "adaptors", "storage"},
	"admin":     {"actors", "storage"},
	"ui":        {},
}

// TestImportDirection fails the build when a package imports against the
// layering (for example storage importing cluster, or adaptors importing
// anything of ours but adaptors).
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "switchyard/...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	top := func(pkg string) string {
		rest := strings.TrimPrefix(pkg, "switchyard/")
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			return rest[:i]
		}
		return rest
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		from := top(fields[0])
		allowed, ruled := allowedImports[from]
		if !ruled {
			continue // cmd and bench may import anything
		}
		checked++
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, "switchyard/") {
				continue
			}
			to := top(imp)
			if to == from && from != "adaptors" {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || a == to
			}
			if !ok {
				t.Errorf("%s imports %s: %s may import only %v", fields[0], imp, from, allowed)
			}
		}
	}
	if checked < 7 {
		t.Fatalf("only %d packages checked: the go list output changed?", checked)
	}
}
