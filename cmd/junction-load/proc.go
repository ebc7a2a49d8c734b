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

// procSample is what the tool reads about the server process.
type procSample struct {
	At    time.Time
	RSSKB int64         // VmRSS
	CPU   time.Duration // utime + stime
}

// procReader samples one process through /proc.
type procReader struct {
	pid    int
	clkTck int64
}

// newProcReader checks that pid can be read and learns the tick rate.
func newProcReader(pid int) (*procReader, error) {
	p := &procReader{pid: pid, clkTck: clockTicks()}
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
	s.CPU = time.Duration(ticks * int64(time.Second) / p.clkTck)
	return s, nil
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
