package main

import (
	"math"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 123456, int64(time.Second), int64(time.Hour)} {
		i := bucketOf(v)
		if up := bucketUpper(i); up < v {
			t.Errorf("value %d: got bucket %d up to %d, want the bucket to hold it", v, i, up)
		}
		if i > 0 && bucketUpper(i-1) >= v {
			t.Errorf("value %d: got bucket %d, but bucket %d already goes up to %d", v, i, i-1, bucketUpper(i-1))
		}
		if width := float64(bucketUpper(i) - lowerOf(i)); v >= 2*histSub && width/float64(v) > 1.0/histSub {
			t.Errorf("value %d: got bucket width %.0f, want at most 1/%d of the value", v, width, histSub)
		}
	}
	if got := bucketOf(math.MaxInt64); got != histBuckets-1 {
		t.Errorf("got bucket %d for the largest value, want the last, %d", got, histBuckets-1)
	}
}

// lowerOf is the smallest value of bucket i.
func lowerOf(i int) int64 {
	if i == 0 {
		return 0
	}
	return bucketUpper(i-1) + 1
}

func TestQuantiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples func(h *histogram)
		q       float64
		want    int64
	}{
		{name: "empty", samples: func(*histogram) {}, q: 0.5, want: 0},
		{name: "one", samples: func(h *histogram) { h.record(5000) }, q: 0.99, want: 5000},
		{name: "uniform p50", samples: uniform(1, 100000), q: 0.5, want: 50000},
		{name: "uniform p99", samples: uniform(1, 100000), q: 0.99, want: 99000},
		{name: "uniform max", samples: uniform(1, 100000), q: 1, want: 100000},
		{name: "negative is zero", samples: func(h *histogram) { h.record(-5) }, q: 0.5, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			tc.samples(&h)
			got := h.quantile(tc.q)
			if tol := tc.want / histSub; got < tc.want || got > tc.want+tol {
				t.Errorf("got quantile(%v) %d, want %d to %d", tc.q, got, tc.want, tc.want+tol)
			}
		})
	}
}

func uniform(from, to int64) func(*histogram) {
	return func(h *histogram) {
		for v := from; v <= to; v++ {
			h.record(v)
		}
	}
}

func TestMerge(t *testing.T) {
	var a, b, all histogram
	for v := int64(1); v <= 1000; v++ {
		all.record(v * 1000)
		if v%2 == 0 {
			a.record(v * 1000)
		} else {
			b.record(v * 1000)
		}
	}
	a.merge(&b)
	for _, q := range []float64{0.1, 0.5, 0.9, 0.99, 1} {
		if got, want := a.quantile(q), all.quantile(q); got != want {
			t.Errorf("got merged quantile(%v) %d, want %d", q, got, want)
		}
	}
	if a.n != all.n || a.min != all.min || a.max != all.max {
		t.Errorf("got n/min/max %d/%d/%d, want %d/%d/%d", a.n, a.min, a.max, all.n, all.min, all.max)
	}
}

func TestStamp(t *testing.T) {
	for _, tc := range []struct {
		id     string
		want   int64
		wantOK bool
	}{
		{id: "b0", want: 0, wantOK: true},
		{id: "b1f", want: 31, wantOK: true},
		{id: "b7fffffffffffffff", want: math.MaxInt64, wantOK: true},
		{id: "b", wantOK: false},
		{id: "x12", wantOK: false},
		{id: "b12G", wantOK: false},
		{id: "b1234567890abcdef0", wantOK: false},
	} {
		got, ok := parseStamp([]byte(tc.id))
		if ok != tc.wantOK || (ok && got != tc.want) {
			t.Errorf("parseStamp(%q) = %d, %v; want %d, %v", tc.id, got, ok, tc.want, tc.wantOK)
		}
	}
	for _, v := range []int64{0, 1, 4095, int64(time.Hour), math.MaxInt64} {
		if got, ok := parseStamp(appendHex([]byte("b"), uint64(v))); !ok || got != v {
			t.Errorf("round trip of %d: got %d, %v", v, got, ok)
		}
	}
}
