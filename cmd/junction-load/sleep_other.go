//go:build !linux

package main

import "time"

// sleeper waits with a Go timer where there is no timerfd; wake-ups may be
// up to a millisecond late, which shows in the rate scenario's latencies.
type sleeper struct{ t *time.Timer }

func newSleeper() (*sleeper, error) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &sleeper{t: t}, nil
}

func (s *sleeper) sleep(d time.Duration) error {
	s.t.Reset(d)
	<-s.t.C
	return nil
}

func (s *sleeper) close() { s.t.Stop() }
