package weights

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A write that fails after the temporary file was created and partly written removes it and leaves the file
// under the final name as it was.
func TestWriteFileAtomicFailureMidway(t *testing.T) {
	boom := errors.New("disk full")
	for _, tc := range []struct {
		name     string
		existing bool
	}{
		{"over an existing file", true},
		{"no previous file", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.safetensors")
			if tc.existing {
				require.NoError(t, os.WriteFile(path, []byte("intact"), 0o644))
			}
			var tmp string
			err := writeFileAtomic(path, func(w io.Writer) error {
				tmp = w.(*os.File).Name()
				if _, err := w.Write([]byte("partial data")); err != nil {
					return err
				}
				return boom
			})
			require.ErrorIs(t, err, boom)
			assert.ErrorContains(t, err, path)
			assert.Equal(t, dir, filepath.Dir(tmp), "the temporary file is in the target's directory")
			_, serr := os.Stat(tmp)
			assert.ErrorIs(t, serr, os.ErrNotExist, "temporary file %s removed", tmp)
			entries, rerr := os.ReadDir(dir)
			require.NoError(t, rerr)
			if tc.existing {
				require.Len(t, entries, 1)
				got, _ := os.ReadFile(path)
				assert.Equal(t, "intact", string(got))
			} else {
				assert.Empty(t, entries)
			}
		})
	}
}
