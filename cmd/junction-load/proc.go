package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Linux auxiliary vector entry with the clock tick rate of /proc times.
const (
	atClkTck       = 17
	defaultClkTck  = 100
	maxProcFileLen = 64 << 10
)

// procSample is what the tool reads about the server process and itself.
type procSample struct {
	At    time.Time
	RSSKB int64         // VmRSS
	CPU   time.Duration // utime + stime

	// With the server pinned to one CPU: that CPU's busy time, all
	// processes together. The same for the tool's own CPU, with its own
	// CPU time.
	ServerCoreBusy time.Duration
	SelfCPU        time.Duration
	SelfCoreBusy   time.Duration
}

// procReader samples one process through /proc.
type procReader struct {
	pid        int
	clkTck     int64
	serverCore int // the one CPU the server may run on, or -1
	selfCore   int // the one CPU the tool may run on, or -1
}

// newProcReader checks that pid can be read and learns the tick rate and
// the CPUs the server and the tool are pinned to.
func newProcReader(pid int) (*procReader, error) {
	p := &procReader{pid: pid, clkTck: clockTicks(), serverCore: pinnedCPU(pid), selfCore: pinnedCPU(os.Getpid())}
	if p.serverCore == p.selfCore {
		p.serverCore, p.selfCore = -1, -1
	}
	if _, err := p.sample(); err != nil {
		return nil, err
	}
	return p, nil
}

// sample reads RSS and CPU time of the process now.
func (p *procReader) sample() (procSample, error) {
	s := procSample{At: time.Now()}
	status, err := readSmall(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return s, fmt.Errorf("read server process %d: %w", p.pid, err)
	}
	if s.RSSKB, err = parseVmRSS(status); err != nil {
		return s, fmt.Errorf("server process %d: %w", p.pid, err)
	}
	stat, err := readSmall(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return s, fmt.Errorf("read server process %d: %w", p.pid, err)
	}
	ticks, err := parseStatCPU(stat)
	if err != nil {
		return s, fmt.Errorf("server process %d: %w", p.pid, err)
	}
	s.CPU = p.ticks(ticks)
	if p.serverCore < 0 {
		return s, nil
	}
	// Best effort from here: these only qualify the figures.
	if stat, err := readSmall("/proc/self/stat"); err == nil {
		if t, err := parseStatCPU(stat); err == nil {
			s.SelfCPU = p.ticks(t)
		}
	}
	if all, err := readSmall("/proc/stat"); err == nil {
		if t, err := parseCoreBusy(all, p.serverCore); err == nil {
			s.ServerCoreBusy = p.ticks(t)
		}
		if t, err := parseCoreBusy(all, p.selfCore); err == nil {
			s.SelfCoreBusy = p.ticks(t)
		}
	}
	return s, nil
}

// ticks converts clock ticks to a duration.
func (p *procReader) ticks(t int64) time.Duration {
	return time.Duration(t * int64(time.Second) / p.clkTck)
}

// pinnedCPU returns the CPU process pid is restricted to, or -1 when it
// may run on more than one (or its status cannot be read).
func pinnedCPU(pid int) int {
	status, err := readSmall(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte("Cpus_allowed_list:")); ok {
			n, err := strconv.Atoi(string(bytes.TrimSpace(rest)))
			if err != nil || n < 0 {
				return -1
			}
			return n
		}
	}
	return -1
}

// parseCoreBusy returns the busy ticks (everything but idle and iowait)
// of CPU cpu from /proc/stat.
func parseCoreBusy(stat []byte, cpu int) (int64, error) {
	name := []byte("cpu" + strconv.Itoa(cpu) + " ")
	for line := range bytes.Lines(stat) {
		rest, ok := bytes.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) < 8 {
			return 0, fmt.Errorf("short /proc/stat line for cpu%d", cpu)
		}
		var busy int64
		// user nice system idle iowait irq softirq steal; guest time is
		// already counted in user.
		for i, v := range f[:8] {
			if i == 3 || i == 4 {
				continue
			}
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bad /proc/stat line for cpu%d", cpu)
			}
			busy += n
		}
		return busy, nil
	}
	return 0, fmt.Errorf("no cpu%d in /proc/stat", cpu)
}

// readSmall reads a /proc file, which reports a size of 0 to os.ReadFile's
// preallocation but is always small.
func readSmall(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, 4096)
	for len(buf) < maxProcFileLen {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil || n == 0 {
			break
		}
	}
	return buf, nil
}

// parseVmRSS finds "VmRSS:   1234 kB" in /proc/PID/status.
func parseVmRSS(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", bytes.TrimSpace(line))
		}
		return strconv.ParseInt(string(f[0]), 10, 64)
	}
	return 0, fmt.Errorf("no VmRSS in status (a zombie or kernel thread?)")
}

// parseStatCPU returns utime+stime in clock ticks from /proc/PID/stat. The
// command name in parentheses may contain spaces, so fields are counted
// from the last ')'.
func parseStatCPU(stat []byte) (int64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected stat %q", snippet(stat))
	}
	f := bytes.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat has %d fields after the name, want at least 13", len(f))
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected utime/stime %q %q", f[11], f[12])
	}
	return ut + st, nil
}

// clockTicks reads AT_CLKTCK from the auxiliary vector, the unit of
// utime and stime, falling back to the usual 100.
func clockTicks() int64 {
	b, err := readSmall("/proc/self/auxv")
	if err != nil {
		return defaultClkTck
	}
	for len(b) >= 16 {
		k, v := binary.NativeEndian.Uint64(b), binary.NativeEndian.Uint64(b[8:])
		b = b[16:]
		if k == atClkTck && v > 0 && v < 1e6 {
			return int64(v)
		}
	}
	return defaultClkTck
}

// snippet quotes the start of b for an error message.
func snippet(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}
