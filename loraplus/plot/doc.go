// Package plot draws the PNG figures of the LoRA+ reproduction with the
// standard library and golang.org/x/image only.
//
// Two figure kinds are provided:
//
//   - Heatmap: a grid over two (usually log-spaced) hyper-parameters, such as
//     the learning rates of the LoRA A and B matrices, coloured by a loss or an
//     accuracy with the viridis colormap (paper Figures 2-4). Diverged runs
//     (NaN or ±Inf) are drawn grey; the best cell can be outlined, near-best
//     cells marked with a cross and the lr_A = lr_B diagonal drawn dashed.
//   - LineChart: one or more curves over a shared x axis, such as accuracy
//     over training steps for LoRA and LoRA+ (paper Figure 7), with a legend.
//
// Combine places rendered panels side by side, and WritePNG stores any image
// atomically (temporary file in the destination directory, then rename).
//
// Text uses the 7x13 bitmap face of golang.org/x/image/font/basicfont, which
// covers printable ASCII; common Greek letters in labels are spelled out
// ("η_A" is drawn as "eta_A").
package plot
