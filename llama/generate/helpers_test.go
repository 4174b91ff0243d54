package generate

import (
	"os"
	"testing"
)

// makeTemp makes a folder for the reference models that lives as long as the test binary (TestMain removes it).
func makeTemp() (string, error) { return os.MkdirTemp("", "generate-ref") }

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyRef.dir != "" {
		os.RemoveAll(tinyRef.dir)
	}
	os.Exit(code)
}
