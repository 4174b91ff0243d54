package weights

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// writeFileAtomic writes path through a temporary file in the same directory, synced and renamed into place,
// so a crash never leaves a partial file under the final name.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = write(f); err != nil {
		return fmt.Errorf("weights: writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// WriteFileAtomic writes data to path atomically (temporary file in the same directory, sync, rename): the one
// durable file write of the module, for checkpoints, adapters, reports and configs alike.
func WriteFileAtomic(path string, data []byte) error {
	return writeFileAtomic(path, func(w io.Writer) error { _, err := w.Write(data); return err })
}
