package main

import (
	"context"
	"fmt"
	"time"
)

// run executes cfg's scenario: it validates cfg, registers the accounts
// if asked, and returns what was measured. A scenario is a function from
// the Config to a Result; a new one (MUC fan-out, say) is one more case
// here and one more field in Result.
func runScenario(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	d := newDialer(&cfg)
	if cfg.Register {
		cfg.progress("registering %d accounts", cfg.Accounts)
		if err := registerAll(ctx, d); err != nil {
			return nil, err
		}
	}
	var (
		r   *Result
		err error
	)
	switch cfg.Scenario {
	case scenarioIdle:
		r, err = runIdle(ctx, d)
	case scenarioThroughput, scenarioRate:
		r, err = runMessages(ctx, d)
	case scenarioLogins:
		r, err = runLogins(ctx, d)
	case scenarioMUC:
		r, err = runMUC(ctx, d)
	default:
		return nil, fmt.Errorf("unknown scenario %q", cfg.Scenario)
	}
	if err != nil {
		return nil, err
	}
	r.Seconds = time.Since(start).Seconds()
	if m := d.mech.Load(); m != nil {
		r.Mech = *m
	}
	return r, nil
}

// watch samples the server process, if there is one to watch; a nil
// *watch does nothing.
type watch struct {
	p     *procReader
	stats *ServerStats
}

// newWatch starts watching cfg.PID, reading the "before" figures.
func newWatch(cfg *Config, r *Result) (*watch, procSample, error) {
	if cfg.PID == 0 {
		return nil, procSample{}, nil
	}
	p, err := newProcReader(cfg.PID)
	if err != nil {
		return nil, procSample{}, err
	}
	s, err := p.sample()
	if err != nil {
		return nil, procSample{}, err
	}
	r.Server = &ServerStats{PID: cfg.PID, RSSBeforeKB: s.RSSKB, RSSPeakKB: s.RSSKB}
	return &watch{p: p, stats: r.Server}, s, nil
}

// sample reads the process now and tracks the peak RSS.
func (w *watch) sample() (procSample, error) {
	if w == nil {
		return procSample{}, nil
	}
	s, err := w.p.sample()
	if err != nil {
		return s, err
	}
	w.stats.RSSPeakKB = max(w.stats.RSSPeakKB, s.RSSKB)
	return s, nil
}

// period records the CPU used between from and to, the RSS at to and,
// with pinned CPUs, how much else ran on them.
func (w *watch) period(from, to procSample) {
	if w == nil {
		return
	}
	w.stats.RSSAfterKB = to.RSSKB
	cpu := to.CPU - from.CPU
	w.stats.CPUSeconds = cpu.Seconds()
	elapsed := to.At.Sub(from.At)
	if elapsed <= 0 {
		return
	}
	pct := func(d time.Duration) float64 { return max(0, 100*d.Seconds()/elapsed.Seconds()) }
	w.stats.CPUPercent = pct(cpu)
	if w.p.serverCore >= 0 {
		selfCPU := to.SelfCPU - from.SelfCPU
		w.stats.Disturbance = &Disturbance{
			ServerCPU:   w.p.serverCore,
			ServerOther: pct(to.ServerCoreBusy - from.ServerCoreBusy - cpu),
			LoadCPU:     w.p.selfCore,
			LoadOther:   pct(to.SelfCoreBusy - from.SelfCoreBusy - selfCPU),
			LoadPercent: pct(selfCPU),
		}
	}
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
