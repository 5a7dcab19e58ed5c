package actors

import "testing"

// The log's content line reads like One API's: ratios with four
// significant digits.
func TestRatiosContent(t *testing.T) {
	for _, c := range []struct {
		r    Ratios
		want string
	}{
		{Ratios{Model: 0.075, Completion: 4, Group: 1}, "model ratio 0.075, completion ratio 4, group ratio 1"},
		{Ratios{Model: 1.23456, Completion: 0.5, Group: 1.5}, "model ratio 1.235, completion ratio 0.5, group ratio 1.5"},
		{Ratios{Model: 30, Completion: 1, Group: 0}, "model ratio 30, completion ratio 1, group ratio 0"},
		{Ratios{Model: 123456, Completion: 1e-5, Group: 2}, "model ratio 1.235e+05, completion ratio 1e-05, group ratio 2"},
	} {
		if got := c.r.Content(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}
