package train

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
)

// emptyTask stands for the task of a benchmark that only writes checkpoints.
type emptyTask struct{}

func (emptyTask) Len() int                     { return 2 }
func (emptyTask) Backward(Batch) (Loss, error) { panic("checkpoint benchmark only") }

// smolShape lays out the seven projections of SmolLM2-135M's 30 blocks (hidden 576, 3 of 9 heads for keys and
// values, SwiGLU width 1536) and a 2-class score head under their checkpoint names, for checkpoint sizes only:
// the frozen weights are allocated and never written, as only the adapters' and the optimizer's sizes matter.
func smolShape() nn.ModuleMap {
	m := nn.ModuleMap{"score": nn.NewLinear(nn.Zeros([]int64{2, 576}, gotch.CPU), nil)}
	shapes := map[string][2]int64{"self_attn.q_proj": {576, 576}, "self_attn.k_proj": {192, 576},
		"self_attn.v_proj": {192, 576}, "self_attn.o_proj": {576, 576}, "mlp.gate_proj": {1536, 576},
		"mlp.up_proj": {1536, 576}, "mlp.down_proj": {576, 1536}}
	for i := range 30 {
		for name, s := range shapes {
			w := ts.MustEmpty([]int64{s[0], s[1]}, gotch.Float, gotch.CPU)
			m[fmt.Sprintf("layers.%d.%s", i, name)] = nn.NewLinear(w, nil)
		}
	}
	return m
}

// BenchmarkCheckpoint measures SaveCheckpoint as shipped ("synced": files synced by nn, then the temporary
// folder and the output folder) and with the two folder syncs left out ("no-dir-sync"), for the tests' tiny
// classifier and for the adapters of SmolLM2-135M's seven projections at r = 8 (2.4M values: 9.8 MB adapter,
// 19.5 MB optimizer state) and r = 64 (the paper's flan-v2 rank: 19.5M values, 78 MB and 156 MB). It writes in
// a folder under $CHECKPOINT_BENCH_DIR (default the system's temporary folder), so that the disk measured is the
// one runs write to:
//
//	go test ./loraplus/train -run - -bench Checkpoint -benchtime 5x
//
// BenchmarkFileSync then gives the share of the per-file syncs: the same files written with and without fsync.
func BenchmarkCheckpoint(b *testing.B) {
	runtime.LockOSThread()
	for _, size := range []struct {
		name  string
		model func() (any, []string)
		rank  int
	}{
		{"tiny", func() (any, []string) { return newToyTask(2, 1).m, []string{"proj"} }, 8},
		{"smollm2-r8", smolModel, 8},
		{"smollm2-r64", smolModel, 64},
	} {
		for _, mode := range []string{"synced", "no-dir-sync"} {
			b.Run(size.name+"/"+mode, func(b *testing.B) {
				model, targets := size.model()
				out := benchDir(b)
				tr := benchSession(b, model, targets, size.rank, out, 1)
				saved := syncDir
				defer func() { syncDir = saved }()
				var inSync time.Duration
				syncDir = func(dir string) error {
					if mode == "no-dir-sync" {
						return nil
					}
					t0 := time.Now()
					err := saved(dir)
					inSync += time.Since(t0)
					return err
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					tr.state.Step = i + 1 // a new checkpoint folder each time; Keep 1 prunes the previous one
					if _, err := tr.SaveCheckpoint(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(checkpointBytes(b, CheckpointDir(out, b.N)))/1e6, "MB/checkpoint")
				b.ReportMetric(float64(inSync.Microseconds())/1e3/float64(b.N), "ms-dir-syncs/op")
			})
		}
	}
}

func smolModel() (any, []string) {
	return smolShape(), []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
}

// BenchmarkFileSync writes the files of a SmolLM2 checkpoint at r = 8 and r = 64 (one written by SaveCheckpoint
// first) to new files, with and without an fsync of each before it is closed: the cost of the file syncs, which
// nn's atomic writers always do.
func BenchmarkFileSync(b *testing.B) {
	runtime.LockOSThread()
	for _, rank := range []int{8, 64} {
		model, targets := smolModel()
		src := benchDir(b)
		tr := benchSession(b, model, targets, rank, src, 0)
		dir, err := tr.SaveCheckpoint()
		require.NoError(b, err)
		entries, err := os.ReadDir(dir)
		require.NoError(b, err)
		var files [][]byte
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(b, err)
			files = append(files, data)
		}
		benchWrites(b, fmt.Sprintf("smollm2-r%d", rank), files)
	}
}

func benchWrites(b *testing.B, name string, files [][]byte) {
	for _, sync := range []bool{true, false} {
		b.Run(fmt.Sprintf("%s/fsync=%v", name, sync), func(b *testing.B) {
			out := benchDir(b)
			for i := 0; i < b.N; i++ {
				for j, data := range files {
					f, err := os.Create(filepath.Join(out, fmt.Sprintf("f%d-%d", i, j)))
					require.NoError(b, err)
					_, err = f.Write(data)
					require.NoError(b, err)
					if sync {
						require.NoError(b, f.Sync())
					}
					require.NoError(b, f.Close())
				}
			}
		})
	}
}

// benchDir is a fresh folder on the disk the benchmark measures.
func benchDir(b *testing.B) string {
	dir, err := os.MkdirTemp(os.Getenv("CHECKPOINT_BENCH_DIR"), "checkpoint-bench-")
	require.NoError(b, err)
	b.Cleanup(func() { os.RemoveAll(dir) })
	// Let writes of earlier runs reach the disk so they do not slow down this one's syncs.
	time.Sleep(200 * time.Millisecond)
	return dir
}

// benchSession wraps model with adapters of rank on targets (and a score head where the model has one) and
// starts a session writing to out.
func benchSession(b *testing.B, model any, targets []string, rank int, out string, keep int) *Session {
	lc := loraplus.DefaultConfig(targets...)
	lc.Rank = rank
	lm, err := loraplus.Wrap(model, lc)
	require.NoError(b, err)
	if m, ok := model.(nn.ModuleMap); ok {
		require.NoError(b, lm.AddTrainable("score.weight", m["score"].(*nn.Linear).Weight))
	}
	c := toyConfig(out)
	c.Keep = keep
	s, err := New(lm, emptyTask{}, c)
	require.NoError(b, err)
	return s
}

func checkpointBytes(b *testing.B, dir string) int64 {
	entries, err := os.ReadDir(dir)
	require.NoError(b, err)
	var n int64
	for _, e := range entries {
		fi, err := e.Info()
		require.NoError(b, err)
		n += fi.Size()
	}
	return n
}
