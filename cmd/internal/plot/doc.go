// Package plot draws the PNG figures of the LoRA+ reproduction's commands
// (cmd/toy, cmd/glue) with gonum.org/v1/plot.
//
// Two figure kinds are provided:
//
//   - Heatmap: a grid over two (usually log-spaced) hyper-parameters, such as
//     the learning rates η_A and η_B of the LoRA A and B matrices, coloured
//     by a loss or an accuracy with the viridis colour map and explained by a
//     colour bar (paper Figures 2-4). Diverged runs (NaN or ±Inf) are drawn
//     grey as missing; the best cell can be outlined, near-best cells marked
//     with a cross and the η_A = η_B diagonal drawn dashed.
//   - LineChart: curves over a shared x axis, such as accuracy over training
//     steps for LoRA and LoRA+ (paper Figure 7), with a legend and optional
//     log-scale axes.
//
// Both implement Figure; WritePNG stores one figure and WriteGridPNG tiles
// several into one PNG, each atomically (temporary file, then rename).
//
// The package uses gonum/plot instead of its own rasteriser so that figures
// get anti-aliased vector drawing, TrueType fonts (Liberation) with real
// Greek letters, and gonum's axes, legends and colour bars. Subscripts
// are written "_{...}", or "_X" for one character X right after a Greek
// letter: "η_A" is drawn as η with a subscript A. The package lives
// under cmd/internal because only the commands draw figures: the library
// itself does not depend on gonum/plot.
package plot
