package nn

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

// ManualSeed seeds libtorch's random generators (CPU and CUDA), which draw dropout masks and random inits, as
// torch.manual_seed does; gotch has no binding for it. It reaches libtorch's default CPU generator by symbol
// (dlsym), relying on at::Generator holding one pointer to its implementation, as libtorch 2.1 to 2.11 do
// (seed_test.go checks the draws against torch.manual_seed).
func ManualSeed(seed uint64) error {
	if C.seed_libtorch(C.uint64_t(seed)) != 0 {
		return fmt.Errorf("libtorch's default CPU generator is not reachable in this process")
	}
	return nil
}

// MixSeed mixes a run's seed and a counter (a step, a layer) into a new seed with SplitMix64's finaliser, so that
// trainers can reseed libtorch before every step (and every recomputed layer) and draw the same dropout masks
// again after a resume.
func MixSeed(seed uint64, n int) uint64 {
	z := seed + 0x9e3779b97f4a7c15*uint64(n+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return (z ^ (z >> 31)) & (1<<63 - 1)
}
