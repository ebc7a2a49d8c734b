package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// idleSampleEvery is how often the idle scenario samples the server and
// checks that its sessions are still up.
const idleSampleEvery = time.Second

// runIdle connects cfg.Sessions sessions (STARTTLS, SASL, bind, initial
// presence), lets the server settle for cfg.Warmup, holds them for
// cfg.Duration and reports the server's memory per session: RSS at the
// end minus RSS before the first login, divided by the sessions.
func runIdle(ctx context.Context, d *dialer) (*Result, error) {
	cfg := d.cfg
	r := newResult(cfg)
	w, before, err := newWatch(cfg, r)
	if err != nil {
		return nil, err
	}
	cfg.progress("connecting %d sessions", cfg.Sessions)
	t0 := time.Now()
	ss, err := connectAll(ctx, d, 0, cfg.Sessions, true)
	if err != nil {
		return nil, err
	}
	connect := time.Since(t0)
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Go(func() { s.run(nil, nil) })
	}
	defer func() {
		closeAll(ss)
		wg.Wait()
	}()
	cfg.progress("%d sessions up in %v; settling %v, then holding %v", len(ss), connect.Round(time.Millisecond), cfg.Warmup, cfg.Duration)
	if err := sleepCtx(ctx, cfg.Warmup); err != nil {
		return nil, err
	}
	held := time.Now()
	settled, err := w.sample()
	if err != nil {
		return nil, err
	}
	for time.Since(held) < cfg.Duration {
		if err := sleepCtx(ctx, min(idleSampleEvery, cfg.Duration-time.Since(held))); err != nil {
			return nil, err
		}
		if _, err := w.sample(); err != nil {
			return nil, err
		}
		if err := sessionsErr(ss); err != nil {
			return nil, err
		}
	}
	end, err := w.sample()
	if err != nil {
		return nil, err
	}
	w.period(settled, end)
	r.Idle = &IdleResult{
		Sessions:       len(ss),
		ConnectSeconds: connect.Seconds(),
		LoginsPerSec:   float64(len(ss)) / connect.Seconds(),
		HeldSeconds:    time.Since(held).Seconds(),
	}
	if w != nil {
		r.Idle.KBPerSession = float64(end.RSSKB-before.RSSKB) / float64(len(ss))
	}
	return r, nil
}

// sessionsErr reports sessions whose stream ended by itself.
func sessionsErr(ss []*session) error {
	var first error
	lost := 0
	for _, s := range ss {
		if err := s.err(); err != nil {
			lost++
			if first == nil {
				first = err
			}
		}
	}
	if lost == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d of %d sessions lost, first: %v", errLost, lost, len(ss), first)
}

// errLost is returned when the server drops sessions during a run.
var errLost = errors.New("load: sessions lost")
