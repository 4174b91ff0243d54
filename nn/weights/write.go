package weights

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// WriteGGUF writes the file that w assembles to path atomically.
func WriteGGUF(path string, w *gguf.Writer) error {
	return writeFileAtomic(path, func(out io.Writer) error { _, err := w.WriteTo(out); return err })
}

// WriteShardedSafetensors writes tensors into dir as save_pretrained does: one model.safetensors when their data
// fits in maxShard bytes, else shards model-0000i-of-0000n.safetensors (tensors in the order given, a new shard
// begun when the next tensor would overflow the current one; a tensor larger than maxShard gets a shard of its
// own) and model.safetensors.index.json ({"metadata": {"total_size"}, "weight_map"}). Every file carries the
// safetensors metadata {"format": "pt"} and is written atomically. It returns the names of the files written.
func WriteShardedSafetensors(dir string, tensors []nn.NamedTensor, maxShard int64) ([]string, error) {
	if maxShard <= 0 {
		return nil, fmt.Errorf("weights: shard size %d must be positive", maxShard)
	}
	var shards [][]nn.NamedTensor
	var cur, total int64
	for _, nt := range tensors {
		n := int64(nt.Tensor.Numel()) * int64(nt.Tensor.DType().Size())
		if len(shards) == 0 || (cur+n > maxShard && cur > 0) {
			shards = append(shards, nil)
			cur = 0
		}
		shards[len(shards)-1] = append(shards[len(shards)-1], nt)
		cur += n
		total += n
	}
	meta := map[string]string{"format": "pt"}
	if len(shards) <= 1 {
		if err := WriteSafetensors(filepath.Join(dir, SafetensorsFile), tensors, meta); err != nil {
			return nil, err
		}
		return []string{SafetensorsFile}, nil
	}
	weightMap := map[string]string{}
	var files []string
	for i, s := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		if err := WriteSafetensors(filepath.Join(dir, name), s, meta); err != nil {
			return nil, err
		}
		for _, nt := range s {
			weightMap[nt.Name] = name
		}
		files = append(files, name)
	}
	idx, err := json.MarshalIndent(map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": weightMap}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(filepath.Join(dir, SafetensorsIndexFile), append(idx, '\n')); err != nil {
		return nil, err
	}
	return append(files, SafetensorsIndexFile), nil
}
