package mmlu

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Scorer accumulates MMLU predictions. The zero value is ready to use.
type Scorer struct {
	tallies map[string]*tally
}

type tally struct{ correct, total int }

// Predict returns the index 0..3 of the largest of the four choice logits
// (the first one on ties, as numpy's argmax). It fails unless there are
// exactly four logits, none NaN.
func Predict(logits []float32) (int, error) {
	if len(logits) != len(Letters) {
		return 0, fmt.Errorf("mmlu: got %d choice logits, want %d", len(logits), len(Letters))
	}
	best := 0
	for i, v := range logits {
		if math.IsNaN(float64(v)) {
			return 0, fmt.Errorf("mmlu: choice logit %s is NaN", Letters[i])
		}
		if v > logits[best] {
			best = i
		}
	}
	return best, nil
}

// Add records one question of subject: logits are the model's next-token
// logits (or log-probabilities) for [AnswerChoices], shape [4], and gold is
// the gold letter. It returns the predicted index and whether it is right.
func (s *Scorer) Add(subject string, logits []float32, gold string) (int, bool, error) {
	g := letterIndex(gold)
	if g < 0 {
		return 0, false, fmt.Errorf("mmlu: %s: gold answer %q: want one of A, B, C, D", subject, gold)
	}
	pred, err := Predict(logits)
	if err != nil {
		return 0, false, fmt.Errorf("%w (subject %s)", err, subject)
	}
	if s.tallies == nil {
		s.tallies = make(map[string]*tally)
	}
	t := s.tallies[subject]
	if t == nil {
		t = &tally{}
		s.tallies[subject] = t
	}
	t.total++
	if pred == g {
		t.correct++
	}
	return pred, pred == g, nil
}

// Score is the accuracy of one subject or group of subjects.
type Score struct {
	// Name is the subject, subcategory or category.
	Name string `json:"name"`
	// Correct and Total count questions.
	Correct int `json:"correct"`
	Total   int `json:"total"`
	// Subjects is the number of subjects pooled (1 for a subject).
	Subjects int `json:"subjects"`
	// Acc is the micro average: Correct / Total over all pooled questions,
	// which is what the reference reports for subcategories and categories.
	Acc float64 `json:"acc"`
	// MacroAcc is the mean of the pooled subjects' accuracies (equal to Acc
	// for a single subject).
	MacroAcc float64 `json:"macro_acc"`
}

// Report is the result of an MMLU evaluation.
type Report struct {
	// Acc is the micro average over all questions (the reference's
	// "average_acc", a question-weighted mean).
	Acc float64 `json:"average_acc"`
	// MacroAcc is the unweighted mean of the per-subject accuracies.
	MacroAcc float64 `json:"macro_acc"`
	// Correct, Questions and Subjects count what was scored.
	Correct   int `json:"correct"`
	Questions int `json:"questions"`
	Subjects  int `json:"subjects"`
	// PerSubject lists subjects alphabetically.
	PerSubject []Score `json:"subject_acc"`
	// PerSubcategory lists subcategories with at least one scored question,
	// in [SubcategoryOrder].
	PerSubcategory []Score `json:"subcat_acc"`
	// PerCategory lists categories with at least one scored question, in
	// [Categories] order.
	PerCategory []Score `json:"cat_acc"`
}

// Report summarizes what has been added so far. Subjects missing from
// [Subcategories] count in the overall averages but in no group.
func (s *Scorer) Report() Report {
	names := slices.Sorted(maps.Keys(s.tallies))

	var r Report
	all := newPool("all")
	subcats := map[string]*pool{}
	cats := map[string]*pool{}
	for _, n := range names {
		t := s.tallies[n]
		r.PerSubject = append(r.PerSubject, newPool(n).add(t).score())
		all.add(t)
		for _, sc := range Subcategories[n] {
			getPool(subcats, sc).add(t)
		}
		for _, c := range SubjectCategories(n) {
			getPool(cats, c).add(t)
		}
	}
	total := all.score()
	r.Acc, r.MacroAcc = total.Acc, total.MacroAcc
	r.Correct, r.Questions, r.Subjects = total.Correct, total.Total, total.Subjects
	for _, sc := range SubcategoryOrder {
		if p := subcats[sc]; p != nil {
			r.PerSubcategory = append(r.PerSubcategory, p.score())
		}
	}
	for _, c := range Categories {
		if p := cats[c.Name]; p != nil {
			r.PerCategory = append(r.PerCategory, p.score())
		}
	}
	return r
}

// pool gathers the tallies of several subjects.
type pool struct {
	name           string
	correct, total int
	subjects       int
	sumAcc         float64
}

func newPool(name string) *pool { return &pool{name: name} }

func getPool(m map[string]*pool, name string) *pool {
	if m[name] == nil {
		m[name] = newPool(name)
	}
	return m[name]
}

func (p *pool) add(t *tally) *pool {
	p.correct += t.correct
	p.total += t.total
	p.subjects++
	p.sumAcc += ratio(t.correct, t.total)
	return p
}

func (p *pool) score() Score {
	s := Score{Name: p.name, Correct: p.correct, Total: p.total, Subjects: p.subjects, Acc: ratio(p.correct, p.total)}
	if p.subjects > 0 {
		s.MacroAcc = p.sumAcc / float64(p.subjects)
	}
	return s
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
