package actors

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultRetryStatusCodes is the default of AutomaticRetryStatusCodes: every
// status but 400 (the request itself is bad), 408 and 504/524 (timeouts:
// the upstream may still be working on it, and a retry could bill twice).
const DefaultRetryStatusCodes = "100-199,300-399,401-407,409-499,500-503,505-523,525-599"

// StatusRanges is a set of HTTP status codes, written as new-api writes
// AutomaticRetryStatusCodes: comma-separated codes and inclusive ranges
// ("401-407,429,500-599"). The zero value contains nothing.
type StatusRanges []StatusRange

// StatusRange is one inclusive range of StatusRanges.
type StatusRange struct{ Lo, Hi int }

// ParseStatusRanges parses the option's syntax; codes must be 100–599.
func ParseStatusRanges(s string) (StatusRanges, error) {
	var out StatusRanges
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := statusCode(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = statusCode(hi); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("status range %q runs backwards", part)
			}
		}
		out = append(out, StatusRange{a, b})
	}
	return out, nil
}

func statusCode(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("%q is not an HTTP status code (100-599)", strings.TrimSpace(s))
	}
	return n, nil
}

// Contains reports whether code is in the set.
func (r StatusRanges) Contains(code int) bool {
	for _, x := range r {
		if code >= x.Lo && code <= x.Hi {
			return true
		}
	}
	return false
}

// String writes the set in the option's syntax.
func (r StatusRanges) String() string {
	parts := make([]string, len(r))
	for i, x := range r {
		parts[i] = strconv.Itoa(x.Lo)
		if x.Hi != x.Lo {
			parts[i] += "-" + strconv.Itoa(x.Hi)
		}
	}
	return strings.Join(parts, ",")
}
