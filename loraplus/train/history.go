package train

// HistoryEntry is one evaluation of a run, for plotting metrics over steps.
type HistoryEntry struct {
	Step      int     `json:"step"`
	Epoch     float64 `json:"epoch"`
	TrainLoss float64 `json:"train_loss"` // mean training loss since the previous entry
	LRA       float64 `json:"lr_A"`
	LRB       float64 `json:"lr_B"`
	Metrics   Metrics `json:"metrics"`
	Seconds   float64 `json:"seconds"` // wall time since the run (or the resume) started
}

// ReadHistory reads a history.jsonl file; a bad line is an error naming it.
func ReadHistory(path string) ([]HistoryEntry, error) {
	return readJSONL[HistoryEntry](path)
}

// openHistory starts out/history.jsonl afresh, or, after a resume at step, keeps only the entries up to that
// step. With nothing to keep it removes the file rather than leaving an empty one: the first evaluation creates
// it.
func openHistory(out string, step int) error {
	return truncateJSONL(out, HistoryFile, "history", step)
}

// appendHistory adds e to out/history.jsonl as one line.
func appendHistory(out string, e HistoryEntry) error {
	return appendJSONL(out, HistoryFile, "history", e)
}
