package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Result is what one run measured. It is written as JSON with -json; the
// per-scenario parts are present only for their scenario.
type Result struct {
	Tool     string    `json:"tool"`
	Scenario string    `json:"scenario"`
	Addr     string    `json:"addr"`
	Domain   string    `json:"domain"`
	TLS      string    `json:"tls"`
	Mech     string    `json:"mech"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"` // wall time of the whole run, setup included

	Server   *ServerStats   `json:"server,omitempty"`
	Idle     *IdleResult    `json:"idle,omitempty"`
	Messages *MessageResult `json:"messages,omitempty"`
	Logins   *LoginResult   `json:"logins,omitempty"`
	MUC      *MUCResult     `json:"muc,omitempty"`
}

// ServerStats is what /proc said about the server process (-pid).
type ServerStats struct {
	PID         int     `json:"pid"`
	RSSBeforeKB int64   `json:"rss_before_kb"` // before the scenario's sessions connected
	RSSAfterKB  int64   `json:"rss_after_kb"`  // at the end of the measured period
	RSSPeakKB   int64   `json:"rss_peak_kb"`   // the largest sample taken
	CPUSeconds  float64 `json:"cpu_seconds"`   // utime+stime over the measured period
	CPUPercent  float64 `json:"cpu_percent"`   // of one core, over the measured period

	// Disturbance is set when the server and the tool are each pinned to
	// one CPU (taskset): what else ran there during the measured period.
	Disturbance *Disturbance `json:"disturbance,omitempty"`
}

// Disturbance is the CPU time that other processes took on the server's
// CPU and on the tool's CPU during the measured period, in percent of that
// period; figures are only trustworthy when both are near 0. LoadPercent
// is the tool's own use of its CPU: near 100, the tool and not the server
// was the limit.
type Disturbance struct {
	ServerCPU   int     `json:"server_cpu"`
	ServerOther float64 `json:"server_cpu_other_percent"`
	LoadCPU     int     `json:"load_cpu"`
	LoadOther   float64 `json:"load_cpu_other_percent"`
	LoadPercent float64 `json:"load_tool_cpu_percent"`
}

// disturbedAbove is the share of a pinned CPU taken by other processes
// above which the summary warns.
const disturbedAbove = 5

// IdleResult is the idle scenario's outcome.
type IdleResult struct {
	Sessions       int     `json:"sessions"`
	ConnectSeconds float64 `json:"connect_seconds"`
	LoginsPerSec   float64 `json:"logins_per_sec"`
	HeldSeconds    float64 `json:"held_seconds"`
	KBPerSession   float64 `json:"kb_per_session,omitempty"` // (RSS after − RSS before) / sessions, with -pid
}

// MessageResult is the throughput or rate scenario's outcome.
type MessageResult struct {
	Pairs      int     `json:"pairs"`
	Window     int     `json:"window,omitempty"`      // throughput
	TargetRate float64 `json:"target_rate,omitempty"` // rate, msgs/s
	BodyBytes  int     `json:"body_bytes"`

	WarmupSeconds   float64 `json:"warmup_seconds"`
	MeasuredSeconds float64 `json:"measured_seconds"`
	// Sent counts messages sent during the measured period (rate: scheduled
	// in it); Delivered counts those received during it.
	Sent       int64   `json:"sent"`
	Delivered  int64   `json:"delivered"`
	MsgsPerSec float64 `json:"msgs_per_sec"` // Delivered / MeasuredSeconds
	// Lost counts messages still not received when the run ended (after
	// waiting up to 5 s); Errors counts message stanzas of type error.
	Lost   int64 `json:"lost"`
	Errors int64 `json:"errors"`
	// Latency is from send (rate: the scheduled send time) to receipt. For
	// throughput it covers messages received in the measured period; for
	// rate, messages scheduled in it, however late they arrived.
	Latency Percentiles `json:"latency"`
}

// MUCResult is the muc scenario's outcome. One groupchat message to a
// room of N occupants is N delivered stanzas, the sender's reflection
// included.
type MUCResult struct {
	Room        string  `json:"room"`
	Occupants   int     `json:"occupants"`
	Window      int     `json:"window,omitempty"`      // max rate: messages in flight
	TargetRate  float64 `json:"target_rate,omitempty"` // fixed rate: delivered stanzas/s
	BodyBytes   int     `json:"body_bytes"`
	JoinSeconds float64 `json:"join_seconds"` // connected sessions joining, the room's creation included

	WarmupSeconds   float64 `json:"warmup_seconds"`
	MeasuredSeconds float64 `json:"measured_seconds"`
	// Sent counts messages the sender sent in the measured period (fixed
	// rate: scheduled in it); Delivered counts the copies occupants
	// received during it.
	Sent            int64   `json:"sent"`
	Delivered       int64   `json:"delivered"`
	DeliveredPerSec float64 `json:"delivered_per_sec"` // Delivered / MeasuredSeconds
	// Lost counts copies still not received when the run ended (after
	// waiting up to 5 s); Errors counts message stanzas of type error.
	Lost   int64 `json:"lost"`
	Errors int64 `json:"errors"`
	// Latency is from send (fixed rate: the scheduled send time) to each
	// occupant's receipt, as for MessageResult.
	Latency Percentiles `json:"latency"`
}

// LoginResult is the logins scenario's outcome.
type LoginResult struct {
	Logins       int         `json:"logins"`
	Concurrency  int         `json:"concurrency"`
	Seconds      float64     `json:"seconds"`
	LoginsPerSec float64     `json:"logins_per_sec"`
	CPUMsPerLog  float64     `json:"server_cpu_ms_per_login,omitempty"` // with -pid
	LoginTime    Percentiles `json:"login_time"`                        // connect to bound, client side
}

// newResult starts a Result for cfg.
func newResult(cfg *Config) *Result {
	return &Result{
		Tool:     "junction-load",
		Scenario: cfg.Scenario,
		Addr:     cfg.Addr,
		Domain:   cfg.Domain,
		TLS:      cfg.TLS,
		Mech:     cfg.Mech,
		Started:  time.Now().UTC().Truncate(time.Millisecond),
	}
}

// writeJSON writes r to path.
func (r *Result) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// summary writes r for people.
func (r *Result) summary(w io.Writer) {
	fmt.Fprintf(w, "junction-load %s against %s (%s, %s over %s) in %.1fs\n", r.Scenario, r.Addr, r.Domain, r.Mech, r.TLS, r.Seconds)
	if i := r.Idle; i != nil {
		fmt.Fprintf(w, "  sessions        %d connected in %.1fs (%.0f logins/s), held %.1fs\n", i.Sessions, i.ConnectSeconds, i.LoginsPerSec, i.HeldSeconds)
		if r.Server != nil {
			fmt.Fprintf(w, "  server RSS      %.1f MB before, %.1f MB after: %.1f KB per session\n",
				float64(r.Server.RSSBeforeKB)/1024, float64(r.Server.RSSAfterKB)/1024, i.KBPerSession)
		}
	}
	if m := r.Messages; m != nil {
		if m.TargetRate > 0 {
			fmt.Fprintf(w, "  load            %d pairs at %.0f msgs/s total, %d-byte bodies\n", m.Pairs, m.TargetRate, m.BodyBytes)
		} else {
			fmt.Fprintf(w, "  load            %d pairs, %d in flight each, %d-byte bodies\n", m.Pairs, m.Window, m.BodyBytes)
		}
		fmt.Fprintf(w, "  delivered       %d in %.1fs: %.0f msgs/s (sent %d, lost %d, errors %d)\n",
			m.Delivered, m.MeasuredSeconds, m.MsgsPerSec, m.Sent, m.Lost, m.Errors)
		writeLatency(w, "latency", m.Latency)
	}
	if m := r.MUC; m != nil {
		if m.TargetRate > 0 {
			fmt.Fprintf(w, "  load            %d occupants in %s at %.0f delivered/s (%.1f msgs/s), %d-byte bodies\n",
				m.Occupants, m.Room, m.TargetRate, m.TargetRate/float64(m.Occupants), m.BodyBytes)
		} else {
			fmt.Fprintf(w, "  load            %d occupants in %s, %d messages in flight, %d-byte bodies\n", m.Occupants, m.Room, m.Window, m.BodyBytes)
		}
		fmt.Fprintf(w, "  joined          in %.1fs\n", m.JoinSeconds)
		fmt.Fprintf(w, "  delivered       %d in %.1fs: %.0f stanzas/s (sent %d msgs, lost %d, errors %d)\n",
			m.Delivered, m.MeasuredSeconds, m.DeliveredPerSec, m.Sent, m.Lost, m.Errors)
		writeLatency(w, "latency", m.Latency)
	}
	if l := r.Logins; l != nil {
		fmt.Fprintf(w, "  logins          %d in %.1fs at concurrency %d: %.0f logins/s\n", l.Logins, l.Seconds, l.Concurrency, l.LoginsPerSec)
		writeLatency(w, "login time", l.LoginTime)
		if l.CPUMsPerLog > 0 {
			fmt.Fprintf(w, "  server CPU      %.2f ms per login\n", l.CPUMsPerLog)
		}
	}
	if s := r.Server; s != nil && r.Idle == nil {
		fmt.Fprintf(w, "  server          pid %d, %.0f%% of a core, RSS %.1f MB (peak %.1f MB)\n",
			s.PID, s.CPUPercent, float64(s.RSSAfterKB)/1024, float64(s.RSSPeakKB)/1024)
	}
	if d := r.Server.disturbance(); d != nil {
		fmt.Fprintf(w, "  pinned CPUs     others used %.1f%% of CPU %d (server) and %.1f%% of CPU %d (this tool, itself at %.0f%%)\n",
			d.ServerOther, d.ServerCPU, d.LoadOther, d.LoadCPU, d.LoadPercent)
		if d.ServerOther > disturbedAbove || d.LoadOther > disturbedAbove {
			fmt.Fprintln(w, "  WARNING         other processes disturbed this run; its figures are not reliable")
		}
	}
}

// disturbance returns s.Disturbance, nil-safe.
func (s *ServerStats) disturbance() *Disturbance {
	if s == nil {
		return nil
	}
	return s.Disturbance
}

func writeLatency(w io.Writer, name string, p Percentiles) {
	fmt.Fprintf(w, "  %-15s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%d samples)\n",
		name, fmtMS(p.P50), fmtMS(p.P90), fmtMS(p.P99), fmtMS(p.P999), fmtMS(p.Max), p.Count)
}

// fmtMS formats milliseconds with a precision that suits their size.
func fmtMS(ms float64) string {
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3fms", ms)
	case ms < 100:
		return fmt.Sprintf("%.2fms", ms)
	default:
		return fmt.Sprintf("%.0fms", ms)
	}
}
