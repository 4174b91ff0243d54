package nn

import (
	"fmt"

	"github.com/sugarme/gotch"
)

// ParseDevice resolves a -device flag: "cpu", "cuda" (an error when libtorch sees no CUDA device) or "auto"
// (CUDA when available).
func ParseDevice(name string) (gotch.Device, error) {
	switch name {
	case "cpu":
		return gotch.CPU, nil
	case "cuda":
		d := gotch.CudaIfAvailable()
		if d == gotch.CPU {
			return d, fmt.Errorf("-device cuda: libtorch sees no CUDA device")
		}
		return d, nil
	case "auto", "":
		return gotch.CudaIfAvailable(), nil
	}
	return gotch.CPU, fmt.Errorf("-device: want cpu, cuda or auto, got %q", name)
}

// DeviceName names a device for logs: "cpu" or "cuda:N".
func DeviceName(d gotch.Device) string {
	if d == gotch.CPU || d.Name == "CPU" {
		return "cpu"
	}
	return fmt.Sprintf("cuda:%d", d.Value)
}

// ParseDType resolves a -dtype flag, the dtype of a model's frozen base weights: float32 (float, fp32), bfloat16
// (bf16) or float16 (half, fp16).
func ParseDType(name string) (gotch.DType, error) {
	switch name {
	case "float32", "float", "fp32":
		return gotch.Float, nil
	case "bfloat16", "bf16":
		return gotch.BFloat16, nil
	case "float16", "half", "fp16":
		return gotch.Half, nil
	}
	return gotch.Float, fmt.Errorf("-dtype: want float32, bfloat16 or float16, got %q", name)
}
