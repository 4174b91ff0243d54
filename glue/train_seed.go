package glue

// #cgo LDFLAGS: -ldl
// #include <dlfcn.h>
// #include <stdint.h>
//
// typedef const void *(*get_generator_fn)(void);
// typedef void (*set_seed_fn)(void *, uint64_t);
// typedef void (*seed_all_fn)(uint64_t);
//
// // seed_libtorch seeds libtorch's default CPU generator and every CUDA generator, as torch.manual_seed does.
// // at::Generator holds a single intrusive_ptr, whose first word is the CPUGeneratorImpl.
// static int seed_libtorch(uint64_t seed) {
// 	get_generator_fn get = (get_generator_fn)dlsym(RTLD_DEFAULT, "_ZN2at6detail22getDefaultCPUGeneratorEv");
// 	set_seed_fn set = (set_seed_fn)dlsym(RTLD_DEFAULT, "_ZN2at16CPUGeneratorImpl16set_current_seedEm");
// 	seed_all_fn cuda = (seed_all_fn)dlsym(RTLD_DEFAULT, "_ZN5torch4cuda15manual_seed_allEm");
// 	if (!get || !set) return -1;
// 	void *impl = *(void *const *)get();
// 	if (!impl) return -1;
// 	set(impl, seed);
// 	if (cuda) cuda(seed);
// 	return 0;
// }
import "C"

import "fmt"

// SeedLibtorch seeds libtorch's random generators (CPU and CUDA), which draw the dropout masks; gotch has no
// binding for torch.manual_seed. The trainer reseeds before every step from the run's seed and the step number,
// so dropout is repeatable and a resumed run draws the masks the uninterrupted run would have drawn.
func SeedLibtorch(seed uint64) error {
	if C.seed_libtorch(C.uint64_t(seed)) != 0 {
		return fmt.Errorf("libtorch's default CPU generator is not reachable in this process")
	}
	return nil
}

// stepSeed mixes the run's seed and a step number into a libtorch seed (SplitMix64's finaliser).
func stepSeed(seed uint64, step int) uint64 {
	z := seed + 0x9e3779b97f4a7c15*uint64(step+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return (z ^ (z >> 31)) & (1<<63 - 1)
}
