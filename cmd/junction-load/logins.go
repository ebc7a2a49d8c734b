package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// loginSettle is how long the logins scenario lets the server finish the
// last logouts before reading its CPU time.
const loginSettle = 200 * time.Millisecond

// runLogins makes cfg.Sessions logins (TLS, SASL, bind; no presence), each
// closed right after binding, cfg.Concurrency at a time and at most
// cfg.ConnectRate per second, cycling over cfg.Accounts accounts. With a
// server process it reports the server's CPU time per login. A warmup
// (any cfg.Warmup above 0) first logs in to each account once, unmeasured.
func runLogins(ctx context.Context, d *dialer) (*Result, error) {
	cfg := d.cfg
	r := newResult(cfg)
	if cfg.Warmup > 0 {
		// One unmeasured login per account: the server has read every
		// account once, and the tool has derived every account's SCRAM
		// keys, so neither side measures its cold start.
		n := min(cfg.Accounts, cfg.Sessions)
		cfg.progress("warming up with %d logins", n)
		err := forEach(ctx, cfg, "warm-up logins", n, cfg.ConnectRate, func(ctx context.Context, i int) error {
			s, err := d.login(ctx, i, fmt.Sprintf("warm%d", i), false)
			if err == nil {
				s.close()
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	w, before, err := newWatch(cfg, r)
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		hist histogram
	)
	cfg.progress("%d logins, %d at a time", cfg.Sessions, cfg.Concurrency)
	t0 := time.Now()
	err = forEach(ctx, cfg, "logins", cfg.Sessions, cfg.ConnectRate, func(ctx context.Context, i int) error {
		start := time.Now()
		s, err := d.login(ctx, i%cfg.Accounts, fmt.Sprintf("login%d", i), false)
		if err != nil {
			return err
		}
		took := time.Since(start)
		s.close()
		mu.Lock()
		hist.record(int64(took))
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(t0)
	if w != nil {
		if err := sleepCtx(ctx, loginSettle); err != nil {
			return nil, err
		}
	}
	after, err := w.sample()
	if err != nil {
		return nil, err
	}
	w.period(before, after)
	r.Logins = &LoginResult{
		Logins:       cfg.Sessions,
		Concurrency:  cfg.Concurrency,
		Seconds:      elapsed.Seconds(),
		LoginsPerSec: float64(cfg.Sessions) / elapsed.Seconds(),
		LoginTime:    hist.percentiles(),
	}
	if w != nil {
		r.Logins.CPUMsPerLog = 1000 * r.Server.CPUSeconds / float64(cfg.Sessions)
	}
	return r, nil
}
