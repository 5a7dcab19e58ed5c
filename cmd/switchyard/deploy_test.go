package main

import (
	"os"
	"reflect"
	"regexp"
	"testing"
)

// The deployment files may only set environment variables that serve
// reads (a typo there would be silently ignored by the node).
func TestDeployFilesUseKnownSettings(t *testing.T) {
	known := map[string]bool{"SWITCHYARD_ADMIN_TOKEN": true, "SWITCHYARD_URL": true}
	ty := reflect.TypeOf(Config{})
	for i := 0; i < ty.NumField(); i++ {
		known[envName(ty.Field(i))] = true
	}
	re := regexp.MustCompile(`SWITCHYARD_[A-Z_]+`)
	for _, f := range []string{"../../docker-compose.yml", "../../deploy/switchyard.service", "../../docs/cluster.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		names := re.FindAllString(string(b), -1)
		if len(names) == 0 {
			t.Fatalf("%s names no setting", f)
		}
		for _, n := range names {
			if !known[n] {
				t.Errorf("%s sets %s, which serve does not read", f, n)
			}
		}
	}
}
