// Package memtest measures memory in tests: the process's resident set and the number of live libtorch tensors.
// A loop that frees every tensor it makes keeps both flat; nothing outside tests imports this package.
package memtest

// #include <malloc.h>
import "C"

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch/ts"
)

// RSS returns the resident set size of this process in bytes after full collections, so that tensors waiting for
// their finalizers are freed first, and after glibc's malloc_trim, so that freed C memory the allocator keeps
// cached (large attention buffers of varying shapes) does not count: what remains is memory in use.
func RSS(t testing.TB) int64 {
	t.Helper()
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond) // let finalizers free the C tensors
	}
	debug.FreeOSMemory()
	C.malloc_trim(0)
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatalf("memtest: resident memory needs /proc: %v", err)
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		t.Fatalf("memtest: /proc/self/statm: unexpected %q", data)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatalf("memtest: /proc/self/statm: %v", err)
	}
	return pages * int64(os.Getpagesize())
}

// LiveTensors returns the number of tensor handles not yet freed, without running the garbage collector: a loop
// whose count grows from one iteration to the next leaves tensors to finalizers (or leaks them).
func LiveTensors(t testing.TB) int {
	t.Helper()
	const key = "Tensors not been released: ["
	s := ts.CheckCMemLeak() // takes gotch's lock; the names are printed with %q
	i := strings.Index(s, key)
	if i < 0 {
		t.Fatalf("memtest: unexpected gotch memory report %q", s)
	}
	s = s[i+len(key):]
	end := strings.Index(s, "]\n")
	if end < 0 {
		t.Fatalf("memtest: unexpected gotch memory report %q", s)
	}
	return strings.Count(s[:end], "\"") / 2
}
