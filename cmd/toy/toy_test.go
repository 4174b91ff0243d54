package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSmallGridWritesEveryPanel(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	out := t.TempDir()
	c, err := parseFlags([]string{"-out", out, "-grid", "3", "-seeds", "1", "-steps", "30", "-early", "5",
		"-train", "200", "-test", "100", "-lr-min", "0.01", "-lr-max", "100"})
	require.NoError(t, err)
	require.NoError(t, runExperiment(c))
	for _, p := range panels {
		csv, err := os.ReadFile(filepath.Join(out, p.file+".csv"))
		require.NoError(t, err)
		assert.Len(t, strings.Split(strings.TrimSpace(string(csv)), "\n"), 1+9, p.file)
		assert.FileExists(t, filepath.Join(out, p.file+".png"))
	}
	assert.FileExists(t, filepath.Join(out, "figure2.png"))
	var s summary
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &s))
	require.Len(t, s.Panels, 4)
	for _, p := range s.Panels {
		assert.Greater(t, p.Loss, 0.0, p.Panel)
		assert.InDelta(t, p.LRB/p.LRA, p.Ratio, 1e-9)
	}
	// lr 100 on both factors diverges: that cell is NaN, not a number.
	csv, _ := os.ReadFile(filepath.Join(out, "train_final.csv"))
	assert.Contains(t, string(csv), "100,100,1,NaN")
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-r", "0"}, {"-grid", "1"}, {"-lr-min", "1", "-lr-max", "0.1"}, {"-early", "50", "-steps", "10"},
		{"-init", "gaussian"}, {"-seeds", "0"}, {"-threads", "0"}, {"-d", "-1"},
	} {
		_, err := parseFlags(args)
		assert.Error(t, err, "%v", args)
	}
}
