package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"junction/xmpp/xmltok"
)

// The muc scenario: -occupants sessions join one room (the first creates
// it as an instant room), and occupant 0 sends groupchat messages to it.
// Every copy an occupant receives, the sender's own reflection included,
// is one delivered stanza: a message to a room of N occupants is N
// deliveries. Without -rate the run keeps -window messages' worth of
// copies (window×N) in flight: whenever a receipt brings the copies still
// on their way down to (window−1)×N, the receiving goroutine sends the
// next message from the sender's session. Refilling on the sender's own
// reflection instead would let the sender run ahead of the slowest
// occupant until the server drops it for unread stanzas. With -rate R the
// sender sends R/N messages per second on a fixed schedule and latency
// counts from the scheduled send time, at every receiver.

// errMUCJoin is the cause of a failed room join or configuration.
var errMUCJoin = errors.New("junction-load: MUC join failed")

// Namespaces of XEP-0045.
const (
	nsMUC      = "http://jabber.org/protocol/muc"
	nsMUCOwner = "http://jabber.org/protocol/muc#owner"
)

// mucFormID is the id of the instant-room configuration request.
const mucFormID = "mucform"

// mucRun is one run of the muc scenario. Times are nanoseconds since base
// on the monotonic clock; warmEnd and end are set once every occupant has
// joined (until then nothing counts).
type mucRun struct {
	cfg     *Config
	paced   bool
	base    time.Time
	room    string // bare room JID
	warmEnd atomic.Int64
	end     atomic.Int64
	stopped atomic.Bool

	occupants []*occupant
	sender    *occupant
	prefix    []byte       // <message type='groupchat' to='room' id='b
	suffix    []byte       // '><body>…</body></message>
	buf       []byte       // built message, under the sender's wmu
	inflight  atomic.Int64 // copies sent and not yet received
	refillAt  int64        // max rate: send when inflight is down to this
	sent      atomic.Int64 // messages sent in the measured period
}

func (m *mucRun) now() int64 { return int64(time.Since(m.base)) }

// occupant is one session in the room. Its fields belong to its reader
// goroutine until that has exited.
type occupant struct {
	run       *mucRun
	s         *session
	nick      string
	hist      histogram
	delivered int64 // groupchat copies received in the measured period
	errors    int64 // message errors received
	dirty     bool  // the sender has unflushed refills
}

// newMUCRun prepares the message templates.
func newMUCRun(cfg *Config) *mucRun {
	m := &mucRun{cfg: cfg, paced: cfg.Rate > 0, base: time.Now(), room: cfg.Room + "@" + cfg.MUCDomain}
	m.warmEnd.Store(math.MaxInt64)
	m.end.Store(math.MaxInt64)
	m.prefix = append(m.prefix, "<message type='groupchat' to='"...)
	m.prefix = xmltok.EscapeAttr(m.prefix, m.room)
	m.prefix = append(m.prefix, "' id='b"...)
	m.suffix = append(m.suffix, "'><body>"...)
	for len(m.suffix) < len("'><body>")+cfg.BodyBytes {
		m.suffix = append(m.suffix, bodyText...)
	}
	m.suffix = append(m.suffix[:len("'><body>")+cfg.BodyBytes], "</body></message>"...)
	return m
}

// writeLocked buffers one groupchat message stamped ts; the caller holds
// the sender's wmu.
func (m *mucRun) writeLocked(ts int64) error {
	b := append(m.buf[:0], m.prefix...)
	b = appendHex(b, uint64(ts))
	b = append(b, m.suffix...)
	m.buf = b
	m.inflight.Add(int64(len(m.occupants)))
	if ts >= m.warmEnd.Load() && ts < m.end.Load() {
		m.sent.Add(1)
	}
	return m.sender.s.writeLocked(b)
}

// message handles a message stanza read by the occupant's session.
func (o *occupant) message(s *session, el *xmltok.Element, now int64) {
	ts, ok := parseStamp(rawAttr(el, attrID))
	if !ok {
		return // the subject, say
	}
	m := o.run
	if bytes.Equal(rawAttr(el, attrType), []byte("error")) {
		o.errors++
		if o == m.sender {
			// A bounce: no occupant gets this one.
			if m.inflight.Add(-int64(len(m.occupants))) <= m.refillAt {
				o.refill()
			}
		}
		return
	}
	left := m.inflight.Add(-1)
	warmEnd, end := m.warmEnd.Load(), m.end.Load()
	if m.paced {
		if ts >= warmEnd && ts < end {
			o.hist.record(now - ts)
		}
		if now >= warmEnd && now < end {
			o.delivered++
		}
	} else if now >= warmEnd && now < end {
		o.hist.record(now - ts)
		o.delivered++
	}
	if left <= m.refillAt {
		o.refill()
	}
}

// refill sends messages of a max-rate run from the sender's session while
// no more than refillAt copies are in flight; they are flushed at the end
// of o's reader batch.
func (o *occupant) refill() {
	m := o.run
	if m.paced || m.stopped.Load() {
		return
	}
	snd := m.sender.s
	snd.wmu.Lock()
	for m.inflight.Load() <= m.refillAt && !m.stopped.Load() {
		if m.writeLocked(m.now()) != nil {
			break
		}
		o.dirty = true
	}
	snd.wmu.Unlock()
}

// batchEnd flushes the refills o's reader wrote since the last batch.
func (o *occupant) batchEnd(*session) {
	if o.dirty {
		o.dirty = false
		o.run.sender.s.flush()
	}
}

// join sends o's presence to the room and reads until the room answers
// with o's own presence. It reports whether the room was created for it
// (status 201). It runs before o's reader is started.
func (o *occupant) join(timeout time.Duration) (created bool, err error) {
	m := o.run
	occJID := m.room + "/" + o.nick
	b := append([]byte(nil), "<presence to='"...)
	b = xmltok.EscapeAttr(b, occJID)
	b = append(b, "'><x xmlns='"+nsMUC+"'><history maxstanzas='0'/></x></presence>"...)
	if err := o.s.send(b); err != nil {
		return false, err
	}
	o.s.nc.SetReadDeadline(time.Now().Add(timeout))
	defer o.s.nc.SetReadDeadline(time.Time{})
	for {
		el, err := o.s.dec.ReadElement()
		if err != nil {
			return false, fmt.Errorf("%w: %s joining %s: %v", errMUCJoin, o.s.full, m.room, err)
		}
		switch el.Local {
		case "iq":
			o.s.iq(el)
		case "presence":
			if !bytes.EqualFold(rawAttr(el, []byte("from")), []byte(occJID)) {
				continue
			}
			if bytes.Equal(rawAttr(el, attrType), []byte("error")) {
				return false, fmt.Errorf("%w: %s joining %s: %s", errMUCJoin, o.s.full, m.room, stanzaErrorText(el))
			}
			return hasStatus(el.Raw, "201"), nil
		}
	}
}

// configure submits the empty owner form that makes a new room an instant
// room, and waits for the answer.
func (o *occupant) configure(timeout time.Duration) error {
	m := o.run
	b := append([]byte(nil), "<iq type='set' id='"+mucFormID+"' to='"...)
	b = xmltok.EscapeAttr(b, m.room)
	b = append(b, "'><query xmlns='"+nsMUCOwner+"'><x xmlns='jabber:x:data' type='submit'/></query></iq>"...)
	if err := o.s.send(b); err != nil {
		return err
	}
	o.s.nc.SetReadDeadline(time.Now().Add(timeout))
	defer o.s.nc.SetReadDeadline(time.Time{})
	for {
		el, err := o.s.dec.ReadElement()
		if err != nil {
			return fmt.Errorf("%w: configuring %s: %v", errMUCJoin, m.room, err)
		}
		if el.Local != "iq" {
			continue
		}
		if !bytes.Equal(rawAttr(el, attrID), []byte(mucFormID)) {
			o.s.iq(el)
			continue
		}
		if bytes.Equal(rawAttr(el, attrType), []byte("result")) {
			return nil
		}
		return fmt.Errorf("%w: configuring %s as an instant room: %s", errMUCJoin, m.room, stanzaErrorText(el))
	}
}

// hasStatus reports whether raw carries <status code='code'/>.
func hasStatus(raw []byte, code string) bool {
	return bytes.Contains(raw, []byte("code='"+code+"'")) || bytes.Contains(raw, []byte(`code="`+code+`"`))
}

// stanzaErrorText names the error condition of an error stanza.
func stanzaErrorText(el *xmltok.Element) string {
	n, err := el.Node()
	if err != nil {
		return "unreadable error"
	}
	cond, text := stanzaErrorCondition(n)
	if text != "" {
		return cond + " (" + text + ")"
	}
	return cond
}

// runMUC runs the muc scenario.
func runMUC(ctx context.Context, d *dialer) (*Result, error) {
	cfg := d.cfg
	r := newResult(cfg)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg.progress("connecting %d sessions", cfg.Occupants)
	ss, err := connectAll(ctx, d, 0, cfg.Occupants, false)
	if err != nil {
		return nil, err
	}
	m := newMUCRun(cfg)
	var readers sync.WaitGroup
	defer func() {
		closeAll(ss)
		readers.Wait()
	}()
	for i, s := range ss {
		m.occupants = append(m.occupants, &occupant{run: m, s: s, nick: "u" + strconv.Itoa(i)})
	}
	m.sender = m.occupants[0]
	m.refillAt = int64(cfg.Window-1) * int64(cfg.Occupants)

	cfg.progress("joining %d occupants to %s", cfg.Occupants, m.room)
	t0 := time.Now()
	first := m.occupants[0]
	created, err := first.join(cfg.Timeout)
	if err != nil {
		return nil, err
	}
	if created {
		if err := first.configure(cfg.Timeout); err != nil {
			return nil, err
		}
	}
	readers.Go(func() { first.s.run(first, m.now) })
	err = forEach(ctx, cfg, "occupants joined", cfg.Occupants-1, 0, func(ctx context.Context, i int) error {
		o := m.occupants[i+1]
		if _, err := o.join(cfg.Timeout); err != nil {
			return err
		}
		readers.Go(func() { o.s.run(o, m.now) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	joinTime := time.Since(t0)

	w, _, err := newWatch(cfg, r)
	if err != nil {
		return nil, err
	}
	start := m.now()
	m.warmEnd.Store(start + int64(cfg.Warmup))
	m.end.Store(start + int64(cfg.Warmup+cfg.Duration))
	paced := make(chan error, 1)
	if m.paced {
		cfg.progress("sending %.0f delivered stanzas/s (%.1f msgs/s) to %d occupants for %v + %v warmup",
			cfg.Rate, cfg.Rate/float64(cfg.Occupants), cfg.Occupants, cfg.Duration, cfg.Warmup)
		go func() { paced <- m.pace(ctx, start) }()
	} else {
		cfg.progress("sending with %d messages in flight to %d occupants for %v + %v warmup", cfg.Window, cfg.Occupants, cfg.Duration, cfg.Warmup)
		snd := m.sender.s
		snd.wmu.Lock()
		for range cfg.Window {
			m.writeLocked(m.now())
		}
		err := snd.flushLocked()
		snd.wmu.Unlock()
		if err != nil {
			return nil, err
		}
	}

	from, to, err := measurePeriod(ctx, w, ss, m.warmEnd.Load(), m.end.Load(), m.now)
	m.stopped.Store(true)
	if err != nil {
		return nil, err
	}
	w.period(from, to)
	if m.paced {
		if err := <-paced; err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
	}
	lost := drainCounter(ctx, &m.inflight)
	if err := sessionsErr(ss); err != nil {
		return nil, err
	}
	closeAll(ss)
	readers.Wait()

	var all histogram
	res := &MUCResult{
		Room:            m.room,
		Occupants:       cfg.Occupants,
		BodyBytes:       cfg.BodyBytes,
		JoinSeconds:     joinTime.Seconds(),
		WarmupSeconds:   cfg.Warmup.Seconds(),
		MeasuredSeconds: cfg.Duration.Seconds(),
		Sent:            m.sent.Load(),
		Lost:            lost,
	}
	if m.paced {
		res.TargetRate = cfg.Rate
	} else {
		res.Window = cfg.Window
	}
	for _, o := range m.occupants {
		all.merge(&o.hist)
		res.Delivered += o.delivered
		res.Errors += o.errors
	}
	res.DeliveredPerSec = float64(res.Delivered) / res.MeasuredSeconds
	res.Latency = all.percentiles()
	r.MUC = res
	return r, nil
}

// pace sends cfg.Rate/occupants messages per second from start, message k
// at start + k·step stamped with that time, until the run ends.
func (m *mucRun) pace(ctx context.Context, start int64) error {
	sl, err := newSleeper()
	if err != nil {
		return err
	}
	defer sl.close()
	step := float64(time.Second) * float64(len(m.occupants)) / m.cfg.Rate
	end := m.end.Load()
	snd := m.sender.s
	for k := int64(0); ; {
		next := start + int64(float64(k)*step)
		if next >= end {
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
		snd.wmu.Lock()
		for n := 0; n < maxBurst && next <= now && next < end; n++ {
			if err := m.writeLocked(next); err != nil {
				snd.wmu.Unlock()
				return err
			}
			k++
			next = start + int64(float64(k)*step)
		}
		err := snd.flushLocked()
		snd.wmu.Unlock()
		if err != nil {
			return err
		}
	}
}

// measurePeriod waits for warmEnd, samples the server, keeps sampling and
// checking the sessions until end, and returns the samples at both ends.
func measurePeriod(ctx context.Context, w *watch, ss []*session, warmEnd, end int64, now func() int64) (procSample, procSample, error) {
	if err := sleepCtx(ctx, time.Duration(warmEnd-now())); err != nil {
		return procSample{}, procSample{}, err
	}
	from, err := w.sample()
	if err != nil {
		return from, procSample{}, err
	}
	for {
		left := time.Duration(end - now())
		if left <= 0 {
			break
		}
		if err := sleepCtx(ctx, min(left, sampleEvery)); err != nil {
			return from, procSample{}, err
		}
		if err := sessionsErr(ss); err != nil {
			return from, procSample{}, err
		}
		if _, err := w.sample(); err != nil {
			return from, procSample{}, err
		}
	}
	to, err := w.sample()
	return from, to, err
}

// drainCounter waits up to drainTimeout for n to reach 0 and returns what
// is left.
func drainCounter(ctx context.Context, n *atomic.Int64) int64 {
	deadline := time.Now().Add(drainTimeout)
	for {
		v := n.Load()
		if v <= 0 || time.Now().After(deadline) || sleepCtx(ctx, drainPoll) != nil {
			return max(v, 0)
		}
	}
}
