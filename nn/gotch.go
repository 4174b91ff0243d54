package nn

import (
	gnn "github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// FromGotch adopts the weights of a gotch nn.Linear (sharing their storage) as a frozen Linear that can carry a
// LoRA adapter. The new layer holds detached aliases, so no gradient reaches the base weights through it.
func FromGotch(l *gnn.Linear) *Linear {
	w := l.Ws.MustT(false).MustDetach(true) // gotch keeps Ws as the [in, out] transpose of the [out, in] variable
	var b *ts.Tensor
	if l.Bs != nil && l.Bs.MustDefined() {
		b = l.Bs.MustDetach(false)
	}
	return NewLinear(w, b)
}
