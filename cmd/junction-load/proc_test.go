package main

import (
	"os"
	"testing"
)

func TestParseProc(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   string
		stat     string
		wantRSS  int64
		wantCPU  int64
		wantFail bool
	}{
		{
			name:    "plain",
			status:  "Name:\tprosody\nVmPeak:\t  100 kB\nVmRSS:\t   51234 kB\nThreads:\t1\n",
			stat:    "1234 (lua5.4) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 37 0 0 20 0 1 0 100 1000000 500 18446744073709551615",
			wantRSS: 51234, wantCPU: 187,
		},
		{
			name:    "name with spaces and parentheses",
			status:  "VmRSS: 8 kB\n",
			stat:    "99 (a b) c)) R 1 99 99 0 -1 0 0 0 0 0 7 5 0 0 20 0 1 0 1 1 1",
			wantRSS: 8, wantCPU: 12,
		},
		{name: "no VmRSS", status: "Name: x\n", stat: "1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 1", wantFail: true},
		{name: "short stat", status: "VmRSS: 1 kB\n", stat: "1 (x) S 1 1", wantFail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rss, err1 := parseVmRSS([]byte(tc.status))
			cpu, err2 := parseStatCPU([]byte(tc.stat))
			if tc.wantFail {
				if err1 == nil && err2 == nil {
					t.Fatalf("got RSS %d and CPU %d, want an error", rss, cpu)
				}
				return
			}
			if err1 != nil || err2 != nil {
				t.Fatalf("got errors %v, %v", err1, err2)
			}
			if rss != tc.wantRSS || cpu != tc.wantCPU {
				t.Errorf("got RSS %d kB and CPU %d ticks, want %d and %d", rss, cpu, tc.wantRSS, tc.wantCPU)
			}
		})
	}
}

func TestProcSelf(t *testing.T) {
	p, err := newProcReader(os.Getpid())
	if err != nil {
		t.Fatalf("read own process: %v", err)
	}
	s, err := p.sample()
	if err != nil {
		t.Fatalf("sample: %v", err)
	}
	if s.RSSKB <= 0 {
		t.Errorf("got RSS %d kB, want above 0", s.RSSKB)
	}
	if p.clkTck <= 0 {
		t.Errorf("got clock ticks %d, want above 0", p.clkTck)
	}
}

func TestParseCoreBusy(t *testing.T) {
	stat := []byte("cpu  30 0 30 100 5 0 0 0 0 0\ncpu0 10 1 20 50 3 2 4 5 7 0\ncpu1 20 0 10 50 2 0 0 0 0 0\nintr 1 2 3\n")
	for _, tc := range []struct {
		cpu      int
		want     int64
		wantFail bool
	}{
		{cpu: 0, want: 10 + 1 + 20 + 2 + 4 + 5},
		{cpu: 1, want: 30},
		{cpu: 2, wantFail: true},
	} {
		got, err := parseCoreBusy(stat, tc.cpu)
		if tc.wantFail {
			if err == nil {
				t.Errorf("cpu%d: got %d, want an error", tc.cpu, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("cpu%d: got %d, %v; want %d", tc.cpu, got, err, tc.want)
		}
	}
}
