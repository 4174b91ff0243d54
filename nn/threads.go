package nn

// #cgo LDFLAGS: -ldl
// #include <dlfcn.h>
// #include <stdlib.h>
//
// typedef void (*set_fn)(int);
// typedef int (*get_fn)(void);
//
// static int call_set(const char *name, int n) {
// 	set_fn f = (set_fn)dlsym(RTLD_DEFAULT, name);
// 	if (!f) return -1;
// 	f(n);
// 	return 0;
// }
//
// static int call_get(const char *name) {
// 	get_fn f = (get_fn)dlsym(RTLD_DEFAULT, name);
// 	if (!f) return -1;
// 	return f();
// }
import "C"

import (
	"fmt"
	"unsafe"
)

// libtorch's at::set_num_threads(int) and at::get_num_threads(), looked up at run time: gotch has no binding for
// them, and libtorch_cpu exports them from the process's shared libraries.
const (
	symSetNumThreads = "_ZN2at15set_num_threadsEi"
	symGetNumThreads = "_ZN2at15get_num_threadsEv"
)

// SetNumThreads sets the number of threads libtorch uses inside one op (intra-op parallelism). Small models
// run faster on one thread; oversubscribed cores (more busy threads than cores) make every op wait.
func SetNumThreads(n int) error {
	if n <= 0 {
		return fmt.Errorf("thread count must be > 0, got %d", n)
	}
	name := C.CString(symSetNumThreads)
	defer C.free(unsafe.Pointer(name))
	if C.call_set(name, C.int(n)) != 0 {
		return fmt.Errorf("libtorch's at::set_num_threads is not loaded in this process")
	}
	return nil
}

// NumThreads returns libtorch's intra-op thread count, or -1 when libtorch is not loaded.
func NumThreads() int {
	name := C.CString(symGetNumThreads)
	defer C.free(unsafe.Pointer(name))
	return int(C.call_get(name))
}
