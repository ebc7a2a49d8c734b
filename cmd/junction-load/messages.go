package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"junction/xmpp/xmltok"
)

// Bounds of the message scenarios.
const (
	// maxBurst bounds how many late messages a paced sender writes before
	// it flushes and looks at the clock again.
	maxBurst = 256
	// drainPoll is how often the end of a run checks for messages in flight.
	drainPoll = 10 * time.Millisecond
	// sampleEvery is how often the server's RSS is sampled during a run.
	sampleEvery = time.Second
)

// bodyText fills message bodies.
const bodyText = "The quick brown fox jumps over the lazy dog. "

// msgRun is one throughput or rate run: pairs of sessions, the sender of
// each writing chat messages to the full JID of its receiver. Times are
// nanoseconds since base on the monotonic clock; a message's id carries
// its send time ("b" and the time in hex), so the receiver measures the
// latency without any shared state.
type msgRun struct {
	cfg   *Config
	paced bool // rate: send on a schedule; else keep a window in flight
	base  time.Time

	warmEnd int64 // measuring starts
	end     int64 // measuring and sending stop
	stopped atomic.Bool
	pairs   []*pair
}

func (m *msgRun) now() int64 { return int64(time.Since(m.base)) }

// pair is a sender and its receiver. Fields under "receiver" belong to the
// receiver's reader goroutine until it has exited.
type pair struct {
	run      *msgRun
	snd, rcv *session
	prefix   []byte // <message … id='b
	suffix   []byte // '><body>…</body></message>
	buf      []byte // built message, under snd.wmu
	inflight atomic.Int64
	sent     atomic.Int64 // sent in the measured period
	touched  bool         // the pacer has unflushed messages for snd

	// receiver
	hist      histogram
	delivered int64 // received in the measured period
	errors    int64 // message errors the receiver got
	dirty     bool  // the sender has unflushed refills

	// sender's reader
	bounced int64 // the sender's own messages bounced back as errors
}

// newPair prepares the message templates for snd → rcv.
func newPair(run *msgRun, snd, rcv *session, bodyBytes int) *pair {
	p := &pair{run: run, snd: snd, rcv: rcv}
	p.prefix = append(p.prefix, "<message type='chat' to='"...)
	p.prefix = xmltok.EscapeAttr(p.prefix, rcv.full)
	p.prefix = append(p.prefix, "' id='b"...)
	p.suffix = append(p.suffix, "'><body>"...)
	for len(p.suffix) < len("'><body>")+bodyBytes {
		p.suffix = append(p.suffix, bodyText...)
	}
	p.suffix = append(p.suffix[:len("'><body>")+bodyBytes], "</body></message>"...)
	return p
}

// writeLocked buffers one message stamped ts; the caller holds snd.wmu.
func (p *pair) writeLocked(ts int64) error {
	b := append(p.buf[:0], p.prefix...)
	b = appendHex(b, uint64(ts))
	b = append(b, p.suffix...)
	p.buf = b
	p.inflight.Add(1)
	if ts >= p.run.warmEnd && ts < p.run.end {
		p.sent.Add(1)
	}
	return p.snd.writeLocked(b)
}

// message handles a message stanza read by either session of the pair:
// the receiver measures, the sender sees only bounces of its own messages.
func (p *pair) message(s *session, el *xmltok.Element, now int64) {
	ts, ok := parseStamp(rawAttr(el, attrID))
	if !ok {
		return
	}
	isError := bytes.Equal(rawAttr(el, attrType), []byte("error"))
	if s == p.snd {
		if isError {
			p.inflight.Add(-1)
			p.bounced++
			if p.refill() {
				p.snd.flush()
			}
		}
		return
	}
	p.inflight.Add(-1)
	r := p.run
	switch {
	case isError:
		p.errors++
	case r.paced:
		if ts >= r.warmEnd && ts < r.end {
			p.hist.record(now - ts)
		}
		if now >= r.warmEnd && now < r.end {
			p.delivered++
		}
	case now >= r.warmEnd && now < r.end:
		p.hist.record(now - ts)
		p.delivered++
	}
	if p.refill() {
		p.dirty = true
	}
}

// refill sends the next message of a throughput run, without flushing,
// and reports whether it did.
func (p *pair) refill() bool {
	if p.run.paced || p.run.stopped.Load() {
		return false
	}
	p.snd.wmu.Lock()
	p.writeLocked(p.run.now())
	p.snd.wmu.Unlock()
	return true
}

// batchEnd flushes the refills the receiver wrote since the last batch.
func (p *pair) batchEnd(s *session) {
	if s == p.rcv && p.dirty {
		p.dirty = false
		p.snd.flush()
	}
}

// maxSleep bounds one wait of the pacer, so that it notices cancellation.
const maxSleep = 100 * time.Millisecond

// pace sends rate messages per second in total, message k at k/rate
// seconds to the receiver of pair k mod pairs, each stamped with its
// scheduled time, so a late send shows as latency (no coordinated
// omission). When it falls behind it catches up in bursts of at most
// maxBurst before it flushes. It returns when the run ends.
func (m *msgRun) pace(ctx context.Context, rate float64) error {
	sl, err := newSleeper()
	if err != nil {
		return err
	}
	defer sl.close()
	step := float64(time.Second) / rate
	touched := make([]*pair, 0, len(m.pairs))
	for k := int64(0); ; {
		next := int64(float64(k) * step)
		if next >= m.end {
			return nil
		}
		if wait := next - m.now(); wait > 0 {
			if ctx.Err() != nil {
				return nil
			}
			if err := sl.sleep(min(time.Duration(wait), maxSleep)); err != nil {
				return err
			}
			continue
		}
		now := m.now()
		for n := 0; n < maxBurst && next <= now && next < m.end; n++ {
			p := m.pairs[k%int64(len(m.pairs))]
			p.snd.wmu.Lock()
			err := p.writeLocked(next)
			p.snd.wmu.Unlock()
			if err != nil {
				return err
			}
			if !p.touched {
				p.touched = true
				touched = append(touched, p)
			}
			k++
			next = int64(float64(k) * step)
		}
		for _, p := range touched {
			p.touched = false
			if err := p.snd.flush(); err != nil {
				return err
			}
		}
		touched = touched[:0]
	}
}

// runMessages runs the throughput or the rate scenario.
func runMessages(ctx context.Context, d *dialer) (*Result, error) {
	cfg := d.cfg
	r := newResult(cfg)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg.progress("connecting %d sessions", 2*cfg.Pairs)
	ss, err := connectAll(ctx, d, 0, 2*cfg.Pairs, true)
	if err != nil {
		return nil, err
	}
	run := &msgRun{cfg: cfg, paced: cfg.Scenario == scenarioRate}
	var readers sync.WaitGroup
	defer func() {
		closeAll(ss)
		readers.Wait()
	}()
	for i := range cfg.Pairs {
		run.pairs = append(run.pairs, newPair(run, ss[2*i], ss[2*i+1], cfg.BodyBytes))
	}
	w, _, err := newWatch(cfg, r)
	if err != nil {
		return nil, err
	}
	run.base = time.Now()
	run.warmEnd = int64(cfg.Warmup)
	run.end = int64(cfg.Warmup + cfg.Duration)
	for _, p := range run.pairs {
		readers.Go(func() { p.snd.run(p, run.now) })
		readers.Go(func() { p.rcv.run(p, run.now) })
	}
	if run.paced {
		cfg.progress("sending %.0f msgs/s over %d pairs for %v + %v warmup", cfg.Rate, cfg.Pairs, cfg.Duration, cfg.Warmup)
	} else {
		cfg.progress("sending with %d in flight on each of %d pairs for %v + %v warmup", cfg.Window, cfg.Pairs, cfg.Duration, cfg.Warmup)
	}

	paced := make(chan error, 1)
	if run.paced {
		go func() { paced <- run.pace(ctx, cfg.Rate) }()
	} else {
		for _, p := range run.pairs {
			p.snd.wmu.Lock()
			for range cfg.Window {
				p.writeLocked(run.now())
			}
			err := p.snd.flushLocked()
			p.snd.wmu.Unlock()
			if err != nil {
				return nil, err
			}
		}
	}

	from, to, err := measurePeriod(ctx, w, ss, run.warmEnd, run.end, run.now)
	run.stopped.Store(true)
	if err != nil {
		return nil, err
	}
	w.period(from, to)
	if run.paced {
		if err := <-paced; err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
	}
	lost := run.drain(ctx)
	if err := sessionsErr(ss); err != nil {
		return nil, err
	}
	closeAll(ss)
	readers.Wait()

	var all histogram
	m := &MessageResult{
		Pairs:           cfg.Pairs,
		BodyBytes:       cfg.BodyBytes,
		WarmupSeconds:   cfg.Warmup.Seconds(),
		MeasuredSeconds: cfg.Duration.Seconds(),
		Lost:            lost,
	}
	if run.paced {
		m.TargetRate = cfg.Rate
	} else {
		m.Window = cfg.Window
	}
	for _, p := range run.pairs {
		all.merge(&p.hist)
		m.Sent += p.sent.Load()
		m.Delivered += p.delivered
		m.Errors += p.errors + p.bounced
	}
	m.MsgsPerSec = float64(m.Delivered) / m.MeasuredSeconds
	m.Latency = all.percentiles()
	r.Messages = m
	return r, nil
}

// drain waits up to drainTimeout for the messages in flight and returns
// how many never arrived.
func (m *msgRun) drain(ctx context.Context) int64 {
	deadline := time.Now().Add(drainTimeout)
	for {
		var n int64
		for _, p := range m.pairs {
			n += p.inflight.Load()
		}
		if n <= 0 || time.Now().After(deadline) || sleepCtx(ctx, drainPoll) != nil {
			return max(n, 0)
		}
	}
}

// appendHex appends v in lower-case hex.
func appendHex(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	var tmp [16]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = digits[v&15]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// parseStamp reads the send time from a message id written by writeLocked.
func parseStamp(id []byte) (int64, bool) {
	if len(id) < 2 || len(id) > 17 || id[0] != 'b' {
		return 0, false
	}
	var v uint64
	for _, c := range id[1:] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return int64(v), true
}
