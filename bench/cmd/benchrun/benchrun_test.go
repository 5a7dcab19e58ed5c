package main

import (
	"encoding/json"
	"os"
	"testing"
)

func TestParseScenarios(t *testing.T) {
	sc, err := parseScenarios("c8, c50,stream50")
	if err != nil {
		t.Fatal(err)
	}
	want := []scenario{{"c8", 8, false}, {"c50", 50, false}, {"stream50", 50, true}}
	if len(sc) != len(want) {
		t.Fatalf("got %+v", sc)
	}
	for i := range want {
		if sc[i] != want[i] {
			t.Errorf("scenario %d = %+v, want %+v", i, sc[i], want[i])
		}
	}
	for _, bad := range []string{"", "x5", "c0", "cfoo", "stream", "c999999"} {
		if _, err := parseScenarios(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestMedianAndRotate(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
	r := rotate([]string{"a", "b", "c"}, 1)
	if r[0] != "b" || r[1] != "c" || r[2] != "a" {
		t.Errorf("rotate = %v", r)
	}
}

func TestFindTokenKey(t *testing.T) {
	cases := map[string]string{
		`[{"name":"other","key":"k1"},{"name":"bench","key":"k2"}]`: "k2",
		`{"items":[{"name":"bench","key":"k3"}]}`:                   "k3",
		`{"name":"bench","key":"k4"}`:                               "k4",
		`[{"name":"x","key":"k5"}]`:                                 "k5",
		`[]`:                                                        "",
	}
	for in, want := range cases {
		if got := findTokenKey(json.RawMessage(in), "bench"); got != want {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}

func TestProcSampling(t *testing.T) {
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	st, err := readStatus(os.Getpid())
	if err != nil || st.HWMMB <= 0 || st.Threads < 1 {
		t.Fatalf("status %+v %v", st, err)
	}
	if busy, total := machineCPU(); total <= 0 || busy > total {
		t.Fatalf("machine cpu %v/%v", busy, total)
	}
}
