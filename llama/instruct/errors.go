package instruct

import "github.com/loraplus-go/loraplus/llama/internal/dataerr"

// LineError reports a problem with one record of a data file: its file, 1-based line and, when there is one,
// the offending key or column ("file:line: key: msg").
type LineError = dataerr.LineError
