package plot

import "image/color"

// Shared figure style, in pixels and colours.
const (
	pad       = 14 // outer margin of a figure
	tickLen   = 5  // length of axis tick marks
	tickGap   = 4  // gap between a tick mark and its label
	labelGap  = 8  // gap between tick labels and the axis label
	titleGap  = 10 // gap between the title and the plot area
	cbarGap   = 20 // gap between the heatmap grid and its colorbar
	cbarWidth = 16 // width of the colorbar
)

var (
	white      = color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
	inkColor   = color.RGBA{0x22, 0x22, 0x22, 0xFF} // text
	frameColor = color.RGBA{0x33, 0x33, 0x33, 0xFF} // axes frames and ticks
	gridColor  = color.RGBA{0xE6, 0xE6, 0xE6, 0xFF} // line-chart grid lines
	bestColor  = color.RGBA{0xE4, 0x1A, 0x1C, 0xFF} // best-cell outline
	diagDark   = color.RGBA{0x10, 0x10, 0x10, 0xFF} // diagonal dash edge
	diagLight  = color.RGBA{0xFF, 0xFF, 0xFF, 0xFF} // diagonal dash core
)
