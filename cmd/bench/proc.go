package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux architecture Go supports.
const clockTicks = 100

// ParseStartTicks returns field 22 of a /proc/<pid>/stat line (starttime: clock ticks after boot). The command
// name in field 2 may hold spaces and parentheses, so fields are counted after its last ')'.
func ParseStartTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/self/stat: no ')' after the command name")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/self/stat: %d fields after the command name, want at least 20", len(f))
	}
	return strconv.ParseInt(f[19], 10, 64) // f[0] is field 3
}

// ParseUptime returns the first number of /proc/uptime (seconds since boot).
func ParseUptime(s string) (float64, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("/proc/uptime is empty")
	}
	return strconv.ParseFloat(f[0], 64)
}

// processStart returns the wall-clock time at which this process started, from /proc/self/stat and
// /proc/uptime (10 ms resolution).
func processStart() (time.Time, error) {
	now := time.Now()
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return now, err
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return now, err
	}
	ticks, err := ParseStartTicks(string(stat))
	if err != nil {
		return now, err
	}
	u, err := ParseUptime(string(up))
	if err != nil {
		return now, fmt.Errorf("/proc/uptime: %w", err)
	}
	age := u - float64(ticks)/clockTicks
	return now.Add(-time.Duration(age * float64(time.Second))), nil
}

// ParseStatusKB returns the value in kB of a "Key:   N kB" line of /proc/<pid>/status (e.g. VmHWM, VmRSS).
func ParseStatusKB(status, key string) (int64, error) {
	for _, l := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(l, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("/proc/self/status has no %s line", key)
}

// statusMB reads one kB field of /proc/self/status, in MiB.
func statusMB(key string) (float64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	kb, err := ParseStatusKB(string(b), key)
	return float64(kb) / 1024, err
}

// Machine names the computer a benchmark ran on.
type Machine struct {
	CPU     string `json:"cpu"`   // model name from /proc/cpuinfo
	Cores   int    `json:"cores"` // logical CPUs this process may use
	Threads int    `json:"threads"`
	OS      string `json:"os,omitempty"`
}

// ParseCPUModel returns the first "model name" of /proc/cpuinfo text ("unknown CPU" when there is none).
func ParseCPUModel(cpuinfo string) string {
	for _, l := range strings.Split(cpuinfo, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// String renders the machine for the table's header.
func (m Machine) String() string {
	return fmt.Sprintf("%s, %d cores, %d libtorch threads", m.CPU, m.Cores, m.Threads)
}

// sampleGPU polls nvidia-smi every 100 ms until stop closes and returns the most GPU memory (MiB) it saw
// process pid use: what the driver charges the process, CUDA context and cached allocations included, the same
// for both stacks. 0 when nvidia-smi is absent.
func sampleGPU(pid int, stop <-chan struct{}) float64 {
	peak := 0.0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := exec.Command("nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits").Output()
		if err != nil {
			return peak
		}
		peak = max(peak, ParseGPUMemory(string(out), pid))
		select {
		case <-stop:
			return peak
		case <-tick.C:
		}
	}
}

// ParseGPUMemory returns the MiB that nvidia-smi's "pid, used_memory" CSV lines give process pid (0 if absent).
func ParseGPUMemory(csv string, pid int) float64 {
	total := 0.0
	for _, l := range strings.Split(csv, "\n") {
		p, m, ok := strings.Cut(l, ",")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err != nil || n != pid {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(m), 64); err == nil {
			total += v
		}
	}
	return total
}
