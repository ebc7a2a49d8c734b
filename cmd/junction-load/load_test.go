package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"junction/config"
	"junction/gateway/gatewaytest"
)

const testPassword = "load-test-pw"

// startServer runs a Junction with accounts bench0…bench(n-1).
func startServer(t *testing.T, n int) *gatewaytest.Server {
	t.Helper()
	srv := gatewaytest.Start(t)
	for i := range n {
		srv.AddUser(t, "bench"+strconv.Itoa(i), testPassword)
	}
	return srv
}

// testConfig is a short run against srv.
func testConfig(srv *gatewaytest.Server, scenario string) Config {
	cfg := defaultConfig()
	cfg.Addr = srv.Addr("c2s").String()
	cfg.Domain = srv.Host
	cfg.Password = testPassword
	cfg.Scenario = scenario
	cfg.Sessions = 10
	cfg.Pairs = 4
	cfg.Window = 8
	cfg.Rate = 400
	cfg.Duration = time.Second
	cfg.Warmup = 200 * time.Millisecond
	cfg.Concurrency = 4
	cfg.Timeout = 10 * time.Second
	cfg.PID = os.Getpid()
	return cfg
}

// checkLatency checks that the percentiles are present and ordered.
func checkLatency(t *testing.T, p Percentiles) {
	t.Helper()
	if p.Count == 0 {
		t.Fatalf("got no latency samples, want some")
	}
	steps := []struct {
		name string
		v    float64
	}{{"min", p.Min}, {"p50", p.P50}, {"p90", p.P90}, {"p99", p.P99}, {"p99.9", p.P999}, {"max", p.Max}}
	for i := 1; i < len(steps); i++ {
		if steps[i].v < steps[i-1].v {
			t.Errorf("got %s %.4fms below %s %.4fms, want percentiles in order", steps[i].name, steps[i].v, steps[i-1].name, steps[i-1].v)
		}
	}
	if p.Min <= 0 {
		t.Errorf("got min latency %.4fms, want above 0", p.Min)
	}
}

func TestScenarios(t *testing.T) {
	srv := startServer(t, 10)
	for _, tc := range []struct {
		name     string
		scenario string
		change   func(*Config)
		check    func(t *testing.T, r *Result)
	}{
		{
			name:     "idle",
			scenario: scenarioIdle,
			change: func(c *Config) {
				c.Duration = 300 * time.Millisecond
				c.ConnectRate = 200
			},
			check: func(t *testing.T, r *Result) {
				if r.Idle == nil || r.Idle.Sessions != 10 {
					t.Fatalf("got idle result %+v, want 10 sessions", r.Idle)
				}
				if r.Server == nil || r.Server.RSSBeforeKB <= 0 || r.Server.RSSAfterKB <= 0 {
					t.Fatalf("got server stats %+v, want RSS before and after", r.Server)
				}
				if r.Idle.HeldSeconds < 0.3 {
					t.Errorf("got sessions held %.2fs, want at least 0.3s", r.Idle.HeldSeconds)
				}
			},
		},
		{
			name:     "throughput",
			scenario: scenarioThroughput,
			check: func(t *testing.T, r *Result) {
				m := r.Messages
				if m == nil || m.Delivered == 0 || m.MsgsPerSec <= 0 {
					t.Fatalf("got message result %+v, want messages delivered", m)
				}
				if m.Lost != 0 || m.Errors != 0 {
					t.Errorf("got %d lost and %d errors, want none", m.Lost, m.Errors)
				}
				if m.Latency.Count != uint64(m.Delivered) {
					t.Errorf("got %d latency samples, want one per delivered message (%d)", m.Latency.Count, m.Delivered)
				}
				checkLatency(t, m.Latency)
			},
		},
		{
			name:     "rate",
			scenario: scenarioRate,
			check: func(t *testing.T, r *Result) {
				m := r.Messages
				if m == nil {
					t.Fatal("got no message result")
				}
				// 400 msgs/s for 1s: the schedule alone fixes what is sent.
				if m.Sent < 390 || m.Sent > 410 {
					t.Errorf("got %d sent in the measured second, want 400±10", m.Sent)
				}
				if m.Lost != 0 || m.Errors != 0 {
					t.Errorf("got %d lost and %d errors, want none", m.Lost, m.Errors)
				}
				if m.Latency.Count != uint64(m.Sent) {
					t.Errorf("got %d latency samples, want one per message sent in the period (%d)", m.Latency.Count, m.Sent)
				}
				checkLatency(t, m.Latency)
			},
		},
		{
			name:     "logins",
			scenario: scenarioLogins,
			change: func(c *Config) {
				c.Sessions = 20
				c.Accounts = 5
			},
			check: func(t *testing.T, r *Result) {
				l := r.Logins
				if l == nil || l.Logins != 20 || l.LoginsPerSec <= 0 {
					t.Fatalf("got login result %+v, want 20 logins", l)
				}
				if l.CPUMsPerLog <= 0 {
					t.Errorf("got %.3f ms CPU per login, want above 0", l.CPUMsPerLog)
				}
				if l.LoginTime.Count != 20 {
					t.Errorf("got %d login times, want 20", l.LoginTime.Count)
				}
				checkLatency(t, l.LoginTime)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(srv, tc.scenario)
			if tc.change != nil {
				tc.change(&cfg)
			}
			r, err := runScenario(context.Background(), cfg)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if r.Mech != mechSCRAMSHA256 {
				t.Errorf("got mechanism %q, want %s chosen by auto", r.Mech, mechSCRAMSHA256)
			}
			tc.check(t, r)
			var sb strings.Builder
			r.summary(&sb)
			if !strings.Contains(sb.String(), tc.scenario) {
				t.Errorf("got summary %q, want it to name %s", sb.String(), tc.scenario)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	srv := startServer(t, 2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name    string
		change  func(*Config)
		wantIs  error
		wantErr string
	}{
		{name: "wrong password", change: func(c *Config) { c.Password = "wrong" }, wantIs: errAuth, wantErr: "not-authorized"},
		{name: "unknown account", change: func(c *Config) { c.UserPattern = "nobody%d" }, wantIs: errAuth, wantErr: "as nobody"},
		{name: "direct TLS on a STARTTLS port", change: func(c *Config) { c.TLS = "direct" }, wantErr: "TLS handshake"},
		{name: "connection refused", change: func(c *Config) { c.Addr = closed }, wantErr: "connection refused"},
		{name: "accounts too few", change: func(c *Config) { c.Accounts = 1 }, wantErr: "-accounts 1"},
		{name: "bad pattern", change: func(c *Config) { c.UserPattern = "bench" }, wantErr: "-user-pattern"},
		{name: "bad scenario", change: func(c *Config) { c.Scenario = "bogus" }, wantErr: "-scenario"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(srv, scenarioIdle)
			cfg.Sessions = 2
			cfg.Duration = 100 * time.Millisecond
			cfg.Warmup = 0
			tc.change(&cfg)
			_, err := runScenario(context.Background(), cfg)
			if err == nil {
				t.Fatalf("got no error, want one containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got error %q, want it to contain %q", err, tc.wantErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("got error %v, want errors.Is %v", err, tc.wantIs)
			}
		})
	}
}

func TestRunFlags(t *testing.T) {
	srv := startServer(t, 2)
	jsonPath := t.TempDir() + "/r.json"
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{name: "no password", args: []string{"-scenario", "idle"}, wantCode: 2, wantOut: "-password is required"},
		{name: "stray argument", args: []string{"-password", "x", "extra"}, wantCode: 2, wantOut: "unexpected arguments"},
		{
			name: "idle with json",
			args: []string{"-addr", srv.Addr("c2s").String(), "-domain", srv.Host, "-password", testPassword,
				"-scenario", "idle", "-n", "2", "-duration", "100ms", "-warmup", "0s", "-json", jsonPath},
			wantCode: 0,
			wantOut:  "2 connected",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(context.Background(), tc.args, &out, &errOut)
			if code != tc.wantCode {
				t.Fatalf("got exit %d, want %d (stderr %q)", code, tc.wantCode, errOut.String())
			}
			if got := out.String() + errOut.String(); !strings.Contains(got, tc.wantOut) {
				t.Errorf("got output %q, want it to contain %q", got, tc.wantOut)
			}
		})
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatalf("read JSON result: %v", err)
	}
	if !strings.Contains(string(b), `"scenario": "idle"`) {
		t.Errorf("got JSON %s, want the idle scenario in it", b)
	}
}

func TestRegister(t *testing.T) {
	open := gatewaytest.Start(t, func(c *config.Config) {
		c.Hosts[0].Registration = "open"
		c.C2S.RegistrationsPerIPHour = 0
	})
	closed := gatewaytest.Start(t)
	for _, tc := range []struct {
		name    string
		srv     *gatewaytest.Server
		runs    int // a second run finds the accounts present (conflict)
		wantErr error
	}{
		{name: "open", srv: open, runs: 2},
		{name: "closed", srv: closed, runs: 1, wantErr: errRegister},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.runs {
				cfg := testConfig(tc.srv, scenarioIdle)
				cfg.Register = true
				cfg.Sessions = 3
				cfg.Duration = 50 * time.Millisecond
				cfg.Warmup = 0
				r, err := runScenario(context.Background(), cfg)
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("got error %v, want %v", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatalf("run %d: %v", i+1, err)
				}
				if r.Idle.Sessions != 3 {
					t.Errorf("run %d: got %d sessions, want 3", i+1, r.Idle.Sessions)
				}
			}
		})
	}
}

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r *Result) {
		t.Helper()
		if err := r.writeJSON(dir + "/" + name + ".json"); err != nil {
			t.Fatal(err)
		}
	}
	write("junction-throughput", &Result{Scenario: scenarioThroughput, Messages: &MessageResult{MsgsPerSec: 40000},
		Server: &ServerStats{Disturbance: &Disturbance{ServerOther: 1.5, LoadOther: 7, LoadPercent: 60}}})
	write("prosody-throughput", &Result{Scenario: scenarioThroughput, Messages: &MessageResult{MsgsPerSec: 10000}})
	write("ejabberd-throughput", &Result{Scenario: scenarioThroughput, Messages: &MessageResult{MsgsPerSec: 32000}})
	write("junction-muc-max-100", &Result{Scenario: scenarioMUC, MUC: &MUCResult{DeliveredPerSec: 300000}})
	write("prosody-muc-max-100", &Result{Scenario: scenarioMUC, MUC: &MUCResult{DeliveredPerSec: 50000}})
	write("ejabberd-muc-max-100", &Result{Scenario: scenarioMUC, MUC: &MUCResult{DeliveredPerSec: 250000}})
	write("junction-muc-rate-200", &Result{Scenario: scenarioMUC, MUC: &MUCResult{Latency: Percentiles{P99: 2}}})
	write("ejabberd-muc-rate-200", &Result{Scenario: scenarioMUC, MUC: &MUCResult{Latency: Percentiles{P99: 4}}})
	write("junction-idle", &Result{Scenario: scenarioIdle, Idle: &IdleResult{KBPerSession: 30}, Server: &ServerStats{RSSAfterKB: 1024}})
	write("prosody-idle", &Result{Scenario: scenarioIdle, Idle: &IdleResult{KBPerSession: 50}, Server: &ServerStats{RSSAfterKB: 2048}})

	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"compare", dir}, &out, &errOut); code != 0 {
		t.Fatalf("got exit %d, want 0 (stderr %q)", code, errOut.String())
	}
	rows := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if name, rest, ok := strings.Cut(line, "  "); ok {
			rows[strings.TrimSpace(name)] = strings.Join(strings.Fields(rest), " ")
		}
	}
	for _, tc := range []struct{ row, want string }{
		{"throughput msgs/s", "40000 10000 32000 4.00 (≥2 met) 1.25 (≥1.5 MISSED)"},
		{"idle KB/session", "30.0 50.0 - 0.60 (≤0.5 MISSED) -"},
		{"idle RSS MB", "1.0 2.0 - 0.50 -"},
		{"logins/s", "- - - - -"},
		{"disturbance %", "7.0 - - - -"},
		{"rate p99 ms", "- - - - -"},
		{"throughput tool CPU %", "60 - - - -"},
		{"muc100 max deliv/s", "300000 50000 250000 6.00 (≥3 met) 1.20 (≥1.5 MISSED)"},
		{"muc200 rate p99 ms", "2.000 - 4.000 - 0.50 (≤1 met)"},
		{"muc200 max deliv/s", "- - - - -"},
	} {
		if got := rows[tc.row]; got != tc.want {
			t.Errorf("row %q: got %q, want %q", tc.row, got, tc.want)
		}
	}
	if code := run(context.Background(), []string{"compare", t.TempDir()}, &out, &errOut); code != 1 {
		t.Errorf("empty directory: got exit %d, want 1", code)
	}
}

func TestMUC(t *testing.T) {
	const occupants = 20
	srv := gatewaytest.Start(t, func(c *config.Config) { c.Hosts[0].MUC = "conference.localhost" })
	for i := range occupants {
		srv.AddUser(t, "bench"+strconv.Itoa(i), testPassword)
	}
	for _, tc := range []struct {
		name string
		rate float64 // delivered stanzas/s; 0 for max rate
		room string
	}{
		{name: "max rate", room: "max"},
		{name: "fixed rate", rate: 2000, room: "fixed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(srv, scenarioMUC)
			cfg.Occupants = occupants
			cfg.Rate = tc.rate
			cfg.Room = tc.room
			r, err := runScenario(context.Background(), cfg)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			m := r.MUC
			if m == nil {
				t.Fatal("got no MUC result")
			}
			if m.Room != tc.room+"@conference.localhost" {
				t.Errorf("got room %q, want %s@conference.localhost", m.Room, tc.room)
			}
			if m.Lost != 0 || m.Errors != 0 {
				t.Errorf("got %d lost and %d errors, want none", m.Lost, m.Errors)
			}
			if m.Delivered == 0 || m.DeliveredPerSec <= 0 {
				t.Fatalf("got %d delivered (%.0f/s), want some", m.Delivered, m.DeliveredPerSec)
			}
			if tc.rate > 0 {
				// 2000/s to 20 occupants is 100 msgs/s: 100 in the measured second.
				if m.Sent < 98 || m.Sent > 102 {
					t.Errorf("got %d sent in the measured second, want 100±2", m.Sent)
				}
				if m.Latency.Count != uint64(m.Sent*occupants) {
					t.Errorf("got %d latency samples, want one per occupant per message sent (%d)", m.Latency.Count, m.Sent*occupants)
				}
			} else if m.Latency.Count != uint64(m.Delivered) {
				t.Errorf("got %d latency samples, want one per delivered stanza (%d)", m.Latency.Count, m.Delivered)
			}
			checkLatency(t, m.Latency)
			var sb strings.Builder
			r.summary(&sb)
			if !strings.Contains(sb.String(), "stanzas/s") {
				t.Errorf("got summary %q, want delivered stanzas/s in it", sb.String())
			}
		})
	}
}

func TestMUCFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantRate   float64
		wantDomain string
		wantErr    string
	}{
		{name: "max rate by default", args: []string{"-scenario", "muc"}, wantDomain: "conference.example.org"},
		{name: "fixed rate", args: []string{"-scenario", "muc", "-rate", "5000", "-muc-domain", "rooms.example.org"}, wantRate: 5000, wantDomain: "rooms.example.org"},
		{name: "one occupant", args: []string{"-scenario", "muc", "-occupants", "1"}, wantErr: "-occupants 1"},
		{name: "bad room", args: []string{"-scenario", "muc", "-room", "a@b"}, wantErr: "-room"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-domain", "example.org", "-password", "x"}, tc.args...)
			cfg, err := parseFlags(args, io.Discard)
			if err == nil {
				err = cfg.validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if cfg.Rate != tc.wantRate || cfg.MUCDomain != tc.wantDomain || cfg.Accounts != 100 {
				t.Errorf("got rate %v, MUC domain %q, %d accounts; want %v, %q, 100", cfg.Rate, cfg.MUCDomain, cfg.Accounts, tc.wantRate, tc.wantDomain)
			}
		})
	}
}
