package progress

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		n, total int
		fields   string
		want     []string
	}{
		{0, 10, "", []string{"train", "0%", "0/10", "[00:02<"}},
		{5, 10, "loss=0.5", []string{" 50%", "5/10", "loss=0.5", "2.5 it/s", "<00:02"}},
		{10, 10, "", []string{"100%", "|████████████████████|"}},
		{3, 0, "", []string{"3/0"}},
	} {
		var sb strings.Builder
		b := NewTo(&sb, "train", tc.total)
		b.start = time.Unix(100, 0)
		b.n, b.fields = tc.n, tc.fields
		line := b.Line(time.Unix(102, 0))
		for _, w := range tc.want {
			assert.Contains(t, line, w)
		}
	}
}

func TestNonTTYPrintsTenthsOnly(t *testing.T) {
	var sb strings.Builder
	b := NewTo(&sb, "x", 100)
	for i := 1; i <= 100; i++ {
		b.Set(i, "")
	}
	lines := strings.Count(sb.String(), "\n")
	assert.Equal(t, 11, lines, "the first update, each tenth and the end: %s", sb.String())
}
