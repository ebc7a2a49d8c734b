package main

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is log-linear, like HdrHistogram: values below 2·histSub
// nanoseconds have a bucket each, and every power of two above is split
// into histSub equal buckets, so a bucket is never wider than 1/histSub
// (1.6%) of the values in it.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	// histBuckets covers up to 128<<38 ns (about 9.7 hours); anything larger
	// lands in the last bucket.
	histBuckets = 40 * histSub
)

// histogram counts latencies in nanoseconds in fixed buckets: recording
// never allocates and memory does not grow with the number of samples. It
// is not safe for concurrent use; each goroutine records into its own and
// the results are merged.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    float64
	min    int64
	max    int64
}

// bucketOf returns the bucket index of v (negative values count as 0).
func bucketOf(v int64) int {
	if v < 2*histSub {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := bits.Len64(uint64(v)) - histSubBits - 1
	i := (e+1)*histSub + int(v>>e) - histSub
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// bucketUpper returns the largest value that falls into bucket i.
func bucketUpper(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	e := i/histSub - 1
	m := int64(i%histSub + histSub)
	return (m+1)<<e - 1
}

// record adds one sample of v nanoseconds.
func (h *histogram) record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// merge adds o's samples to h.
func (h *histogram) merge(o *histogram) {
	if o == nil || o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the value at or below which a fraction q of the samples
// lie, as the upper bound of its bucket but never above the largest sample.
// It returns 0 for an empty histogram.
func (h *histogram) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketUpper(i), h.max)
		}
	}
	return h.max
}

// Percentiles summarises a latency distribution in milliseconds.
type Percentiles struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean_ms"`
	Min   float64 `json:"min_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

// percentiles summarises h.
func (h *histogram) percentiles() Percentiles {
	if h.n == 0 {
		return Percentiles{}
	}
	ms := func(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }
	return Percentiles{
		Count: h.n,
		Mean:  h.sum / float64(h.n) / float64(time.Millisecond),
		Min:   ms(h.min),
		P50:   ms(h.quantile(0.50)),
		P90:   ms(h.quantile(0.90)),
		P99:   ms(h.quantile(0.99)),
		P999:  ms(h.quantile(0.999)),
		Max:   ms(h.max),
	}
}
