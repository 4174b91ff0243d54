package plot

import (
	"bufio"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
)

// WritePNG encodes img as a PNG at path atomically: it writes a temporary
// file in the same directory, syncs it and renames it over path, so that
// readers never see a partial figure. The temporary file is removed when
// any step fails.
func WritePNG(path string, img image.Image) (err error) {
	if img == nil {
		return fmt.Errorf("plot: write %s: nil image", path)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return fmt.Errorf("plot: write %s: empty image %v", path, b)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("plot: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriter(f)
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err = enc.Encode(w, img); err != nil {
		return fmt.Errorf("plot: encode %s: %w", path, err)
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("plot: write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("plot: chmod %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("plot: sync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("plot: close %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("plot: rename %s to %s: %w", tmp, path, err)
	}
	return nil
}
