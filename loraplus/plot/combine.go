package plot

import (
	"image"
	"image/draw"
)

// Combine arranges imgs row by row in a grid of cols columns on a white
// background, for panels such as train/test or early/converged side by
// side. Each column is as wide as its widest panel and each row as tall as
// its tallest; panels are centred in their slots. A nil panel leaves its
// slot blank; cols <= 0 puts all panels in one row. With no panel the
// result is empty (0x0).
func Combine(cols int, imgs ...image.Image) *image.RGBA {
	n := len(imgs)
	if n == 0 {
		return image.NewRGBA(image.Rectangle{})
	}
	if cols <= 0 || cols > n {
		cols = n
	}
	rows := (n + cols - 1) / cols
	colW := make([]int, cols)
	rowH := make([]int, rows)
	for i, im := range imgs {
		if im == nil {
			continue
		}
		b := im.Bounds()
		colW[i%cols] = max(colW[i%cols], b.Dx())
		rowH[i/cols] = max(rowH[i/cols], b.Dy())
	}
	colX := make([]int, cols+1)
	for c := range cols {
		colX[c+1] = colX[c] + colW[c]
	}
	rowY := make([]int, rows+1)
	for r := range rows {
		rowY[r+1] = rowY[r] + rowH[r]
	}
	out := image.NewRGBA(image.Rect(0, 0, colX[cols], rowY[rows]))
	draw.Draw(out, out.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
	for i, im := range imgs {
		if im == nil {
			continue
		}
		c, r := i%cols, i/cols
		b := im.Bounds()
		at := image.Pt(colX[c]+(colW[c]-b.Dx())/2, rowY[r]+(rowH[r]-b.Dy())/2)
		draw.Draw(out, image.Rectangle{Min: at, Max: at.Add(b.Size())}, im, b.Min, draw.Over)
	}
	return out
}
