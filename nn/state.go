package nn

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sugarme/gotch/ts"
)

// NamedTensor is a tensor with its checkpoint name.
type NamedTensor struct {
	Name   string
	Tensor *ts.Tensor
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ListNames formats a titled list of names for an error message, sorted, at most 20 shown.
func ListNames(what string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	sort.Strings(items)
	n := len(items)
	const max = 20
	more := ""
	if n > max {
		more = fmt.Sprintf("\n  … and %d more", n-max)
		items = items[:max]
	}
	return fmt.Sprintf("\n %s (%d):\n  %s%s", what, n, strings.Join(items, "\n  "), more)
}
