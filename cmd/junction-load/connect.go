package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// progressEvery is how many logins pass between progress lines.
const progressEvery = 1000

// forEach runs fn(ctx, i) for i from 0 to n-1 with at most conc calls under
// way and, if rate is above 0, at most rate calls started per second. The
// first error cancels the calls under way, stops starting new ones and is
// returned. what names the work in progress lines.
func forEach(ctx context.Context, cfg *Config, what string, n int, rate float64, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
loop:
	for i := range n {
		if rate > 0 {
			at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if wait := time.Until(at); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-ctx.Done():
					break loop
				}
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		if i > 0 && i%progressEvery == 0 {
			cfg.progress("%s: %d/%d", what, i, n)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// connectAll logs in n sessions for accounts first to first+n-1 at
// cfg.ConnectRate. On a failure it closes every session it opened and
// returns the failure.
func connectAll(ctx context.Context, d *dialer, first, n int, presence bool) ([]*session, error) {
	out := make([]*session, n)
	err := forEach(ctx, d.cfg, "sessions connected", n, d.cfg.ConnectRate, func(ctx context.Context, i int) error {
		s, err := d.login(ctx, first+i, fmt.Sprintf("load%d", first+i), presence)
		out[i] = s
		return err
	})
	if err != nil {
		closeAll(out)
		return nil, err
	}
	return out, nil
}

// closeAll closes every session in ss that is not nil.
func closeAll(ss []*session) {
	for _, s := range ss {
		if s != nil {
			s.close()
		}
	}
}

// registerAll creates cfg.Accounts accounts with XEP-0077.
func registerAll(ctx context.Context, d *dialer) error {
	start := time.Now()
	err := forEach(ctx, d.cfg, "accounts registered", d.cfg.Accounts, 0, d.register)
	if err != nil {
		return err
	}
	d.cfg.progress("%d accounts registered or present in %v", d.cfg.Accounts, time.Since(start).Round(time.Millisecond))
	return nil
}
