package plot

import (
	"image"
	"image/color"
	"testing"

	"github.com/stretchr/testify/assert"
)

// solid returns a w x h image filled with c.
func solid(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fillRect(img, img.Bounds(), c)
	return img
}

func TestCombine(t *testing.T) {
	red := color.RGBA{255, 0, 0, 255}
	blue := color.RGBA{0, 0, 255, 255}
	for _, tc := range []struct {
		name string
		cols int
		imgs []image.Image
		size image.Point
		at   map[image.Point]color.RGBA
	}{
		{"side by side", 2, []image.Image{solid(10, 8, red), solid(6, 4, blue)}, image.Pt(16, 8),
			map[image.Point]color.RGBA{{0, 0}: red, {9, 7}: red, {10, 1}: white, {10, 2}: blue, {15, 5}: blue, {15, 6}: white}},
		{"one row by default", 0, []image.Image{solid(4, 4, red), solid(4, 4, blue), solid(4, 4, red)}, image.Pt(12, 4),
			map[image.Point]color.RGBA{{5, 1}: blue, {9, 1}: red}},
		{"wrapped with nil slot", 2, []image.Image{solid(4, 4, red), nil, nil, solid(4, 6, blue)}, image.Pt(8, 10),
			map[image.Point]color.RGBA{{1, 1}: red, {5, 1}: white, {1, 6}: white, {5, 5}: blue}},
		{"none", 3, nil, image.Pt(0, 0), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := Combine(tc.cols, tc.imgs...)
			assert.Equal(t, tc.size, out.Bounds().Size())
			for p, c := range tc.at {
				assert.Equal(t, c, out.RGBAAt(p.X, p.Y), "pixel %v", p)
			}
		})
	}
}
