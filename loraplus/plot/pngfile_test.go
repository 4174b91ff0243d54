package plot

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWritePNGRoundTrip(t *testing.T) {
	heat, err := sampleHeatmap(6).Render()
	require.NoError(t, err)
	chart, err := sampleChart().Render()
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		img  *image.RGBA
	}{{"heatmap.png", heat}, {"chart.png", chart}, {"both.png", Combine(2, heat, chart)}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.name)
			require.NoError(t, WritePNG(path, tc.img))
			// Overwriting replaces the file in place.
			require.NoError(t, WritePNG(path, tc.img))
			assert.Equal(t, []string{tc.name}, dirNames(t, dir), "no temporary files left")

			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			got, err := png.Decode(f)
			require.NoError(t, err)
			require.Equal(t, tc.img.Bounds(), got.Bounds())
			for y := 0; y < tc.img.Bounds().Dy(); y += 3 {
				for x := 0; x < tc.img.Bounds().Dx(); x += 3 {
					r1, g1, b1, a1 := tc.img.At(x, y).RGBA()
					r2, g2, b2, a2 := got.At(x, y).RGBA()
					require.Equal(t, [4]uint32{r1, g1, b1, a1}, [4]uint32{r2, g2, b2, a2}, "pixel (%d, %d)", x, y)
				}
			}
			st, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
		})
	}
}

func TestWritePNGErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		path string
		img  image.Image
		want string
	}{
		{"missing directory", filepath.Join(dir, "nope", "x.png"), solid(2, 2, white), "nope/x.png"},
		{"empty image", filepath.Join(dir, "empty.png"), image.NewRGBA(image.Rectangle{}), "empty image"},
		{"nil image", filepath.Join(dir, "nil.png"), nil, "nil image"},
		{"directory as target", dir, solid(2, 2, white), dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WritePNG(tc.path, tc.img)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, dirNames(t, dir), "no temporary files left")
		})
	}
}

func TestFigureWritePNG(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, sampleHeatmap(4).WritePNG(filepath.Join(dir, "h.png")))
	require.NoError(t, sampleChart().WritePNG(filepath.Join(dir, "c.png")))
	bad := &Heatmap{X: []float64{1}, Y: []float64{1}}
	err := bad.WritePNG(filepath.Join(dir, "bad.png"))
	require.ErrorContains(t, err, "Z has 0 rows")
	bc := &LineChart{}
	require.ErrorContains(t, bc.WritePNG(filepath.Join(dir, "bad2.png")), "no series")
	assert.ElementsMatch(t, []string{"h.png", "c.png"}, dirNames(t, dir))
}
