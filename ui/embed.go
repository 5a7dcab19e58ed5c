// Package ui serves the bundled web app. Until the web app is built into
// dist/ (by `make ui`), a placeholder page stands in, so `go build ./...`
// works from a fresh clone without Node.
package ui

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Files returns the built web app (index.html at the root).
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}
