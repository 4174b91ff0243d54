package instruct

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadInstruct feeds arbitrary bytes to the JSONL reader. It must never
// panic; every accepted record must format and encode into aligned input
// ids and labels within the length limit.
func FuzzReadInstruct(f *testing.F) {
	f.Add([]byte(`{"inputs": "Q?", "targets": "A."}` + "\n"))
	f.Add([]byte(`{"messages": [{"role": "system", "content": " s "}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		exs, err := Read(bytes.NewReader(in), "fuzz.jsonl")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.jsonl:") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, ex := range exs {
			fm, err := Format(ex, "</s>")
			if err != nil {
				t.Fatalf("accepted record does not format: %v", err)
			}
			if fm.Prompt+fm.Target != fm.Text || !strings.HasPrefix(fm.Context, fm.Text) {
				t.Fatalf("inconsistent layout %+v", fm)
			}
			for _, maxLen := range []int{8, 0} {
				enc, err := fm.Encode(toyTokenize, maxLen)
				if err != nil {
					t.Fatal(err)
				}
				limit := maxLen
				if limit == 0 {
					limit = DefaultMaxSeqLength
				}
				if len(enc.InputIDs) != len(enc.Labels) || len(enc.InputIDs) > limit {
					t.Fatalf("ids %d labels %d limit %d", len(enc.InputIDs), len(enc.Labels), limit)
				}
				for i, l := range enc.Labels {
					if l != IgnoreIndex && l != enc.InputIDs[i] {
						t.Fatalf("label %d at %d, id %d", l, i, enc.InputIDs[i])
					}
				}
			}
		}
	})
}
