package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Bounds on what one run may ask for.
const (
	maxSessions    = 200000
	maxPairs       = 50000
	maxWindow      = 10000
	maxRate        = 10000000
	maxDuration    = 2 * time.Hour
	maxConcurrency = 10000
	maxBodyBytes   = 64 << 10
	maxOccupants   = 10000
	// drainTimeout bounds the wait for messages still in flight at the end.
	drainTimeout = 5 * time.Second
)

// Scenario names accepted by -scenario.
const (
	scenarioIdle       = "idle"
	scenarioThroughput = "throughput"
	scenarioRate       = "rate"
	scenarioLogins     = "logins"
	scenarioMUC        = "muc"
)

// scenarioNames lists the scenarios for usage and errors.
var scenarioNames = []string{scenarioIdle, scenarioThroughput, scenarioRate, scenarioLogins, scenarioMUC}

// Config is one run of the load tool. The flags fill it; tests build it
// directly.
type Config struct {
	Addr   string // host:port of the server's c2s listener
	Domain string // the XMPP domain the accounts live on
	TLS    string // "starttls" or "direct"
	Mech   string // SASL mechanism, or "auto" for the strongest offered

	Register    bool   // create accounts with XEP-0077 before the run
	UserPattern string // account localparts, with %d for the account number
	Password    string // the password of every account
	Accounts    int    // accounts to use; 0 means as many as the scenario needs

	Scenario    string
	Sessions    int           // idle: sessions to hold; logins: logins to make
	Pairs       int           // throughput and rate: sender/receiver pairs
	Window      int           // throughput: messages in flight per pair; muc: messages in flight
	Rate        float64       // rate: total messages per second over all senders; muc: delivered stanzas per second, 0 for max rate
	Occupants   int           // muc: sessions in the room, the sender included
	Room        string        // muc: the room's localpart
	MUCDomain   string        // muc: the MUC service's domain; "" means conference.<Domain>
	BodyBytes   int           // bytes in each message body
	Duration    time.Duration // measured time, after the warmup
	Warmup      time.Duration // time before measuring (idle: settle time before RSS is read)
	ConnectRate float64       // logins per second while connecting sessions, 0 for no limit
	Concurrency int           // logins (and registrations) under way at once
	Timeout     time.Duration // bounds one login, one registration and each write
	Resume      bool          // reuse TLS sessions (tickets) across logins

	PID        int    // server process for RSS and CPU figures, 0 for none
	JSONPath   string // write the result as JSON here when not ""
	CPUProfile string // write the tool's own CPU profile here when not ""
	// MaxDisturbance makes the run fail with exitDisturbed when other
	// processes took more than this percentage of the server's or the
	// tool's pinned CPU; 0 turns the check off.
	MaxDisturbance float64

	// Progress receives one line per phase; nil discards.
	Progress io.Writer
}

// defaultConfig is what the flags start from.
func defaultConfig() Config {
	return Config{
		Addr:        "127.0.0.1:5222",
		Domain:      "localhost",
		TLS:         "starttls",
		Mech:        "auto",
		UserPattern: "bench%d",
		Scenario:    scenarioThroughput,
		Sessions:    1000,
		Pairs:       50,
		Window:      16,
		Rate:        5000,
		Occupants:   100,
		Room:        "bench",
		BodyBytes:   64,
		Duration:    20 * time.Second,
		Warmup:      3 * time.Second,
		Concurrency: 32,
		Timeout:     30 * time.Second,
	}
}

// parseFlags fills a Config from the command line.
func parseFlags(args []string, stderr io.Writer) (Config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("junction-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "server c2s `host:port`")
	fs.StringVar(&cfg.Domain, "domain", cfg.Domain, "XMPP `domain` of the accounts")
	fs.StringVar(&cfg.TLS, "tls", cfg.TLS, "starttls or direct (XEP-0368)")
	fs.StringVar(&cfg.Mech, "mech", cfg.Mech, "SASL mechanism: SCRAM-SHA-256, SCRAM-SHA-1, PLAIN or auto")
	fs.BoolVar(&cfg.Register, "register", false, "register the accounts with XEP-0077 first (conflict means it exists)")
	fs.StringVar(&cfg.UserPattern, "user-pattern", cfg.UserPattern, "account localparts, %d is the account number")
	fs.StringVar(&cfg.Password, "password", "", "password of every account (or JUNCTION_LOAD_PASSWORD)")
	fs.IntVar(&cfg.Accounts, "accounts", 0, "accounts to use, 0: as many as the scenario needs")
	fs.StringVar(&cfg.Scenario, "scenario", cfg.Scenario, strings.Join(scenarioNames, ", "))
	fs.IntVar(&cfg.Sessions, "n", cfg.Sessions, "idle: sessions to hold; logins: logins to make")
	fs.IntVar(&cfg.Pairs, "pairs", cfg.Pairs, "throughput, rate: sender/receiver session pairs")
	fs.IntVar(&cfg.Window, "window", cfg.Window, "throughput: messages in flight per pair")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "rate: total messages per second; muc: delivered stanzas per second (without it, muc runs at max rate)")
	fs.IntVar(&cfg.Occupants, "occupants", cfg.Occupants, "muc: occupants of the room, the sender included")
	fs.StringVar(&cfg.Room, "room", cfg.Room, "muc: the room's `localpart`")
	fs.StringVar(&cfg.MUCDomain, "muc-domain", "", "muc: the MUC service's `domain` (default conference.<domain>)")
	fs.IntVar(&cfg.BodyBytes, "body", cfg.BodyBytes, "message body `bytes`")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured time after the warmup (idle: how long sessions are held)")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "time before measuring (idle: settle time before RSS is read)")
	fs.Float64Var(&cfg.ConnectRate, "connect-rate", 0, "logins per second while connecting sessions, 0: no limit")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "logins and registrations under way at once")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound on one login, registration or write")
	fs.BoolVar(&cfg.Resume, "resume", false, "resume TLS sessions with tickets (logins then skip full handshakes)")
	fs.IntVar(&cfg.PID, "pid", 0, "server process `id` for RSS and CPU figures from /proc")
	fs.StringVar(&cfg.JSONPath, "json", "", "write the result as JSON to `file`")
	fs.Float64Var(&cfg.MaxDisturbance, "max-disturbance", 0, "exit 3 when other processes took more than this `percent` of a pinned CPU (0: no check)")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the load tool's own CPU profile to `file` (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.Scenario == scenarioMUC {
		rateSet := false
		fs.Visit(func(f *flag.Flag) { rateSet = rateSet || f.Name == "rate" })
		if !rateSet {
			cfg.Rate = 0 // max rate with -window in flight
		}
	}
	return cfg, nil
}

// validate checks cfg and fills the account count.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("-addr %q: %v", c.Addr, err)
	}
	if c.Domain == "" {
		bad("-domain is required")
	}
	if c.TLS != "starttls" && c.TLS != "direct" {
		bad("-tls %q: want starttls or direct", c.TLS)
	}
	switch c.Mech {
	case "auto", mechSCRAMSHA256, mechSCRAMSHA1, mechPLAIN:
	default:
		bad("-mech %q: want SCRAM-SHA-256, SCRAM-SHA-1, PLAIN or auto", c.Mech)
	}
	if strings.Count(c.UserPattern, "%d") != 1 || strings.Count(c.UserPattern, "%") != 1 {
		bad("-user-pattern %q: needs exactly one %%d", c.UserPattern)
	}
	if c.Password == "" {
		bad("-password is required")
	}
	if c.Duration <= 0 || c.Duration > maxDuration {
		bad("-duration %v: want more than 0 and at most %v", c.Duration, maxDuration)
	}
	if c.Warmup < 0 || c.Warmup > maxDuration {
		bad("-warmup %v: want 0 to %v", c.Warmup, maxDuration)
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		bad("-concurrency %d: want 1 to %d", c.Concurrency, maxConcurrency)
	}
	if c.ConnectRate < 0 {
		bad("-connect-rate %v: must not be negative", c.ConnectRate)
	}
	if c.Timeout <= 0 || c.Timeout > 10*time.Minute {
		bad("-timeout %v: want more than 0 and at most 10m", c.Timeout)
	}
	if c.BodyBytes < 1 || c.BodyBytes > maxBodyBytes {
		bad("-body %d: want 1 to %d", c.BodyBytes, maxBodyBytes)
	}
	if c.MaxDisturbance < 0 || c.MaxDisturbance > 100 {
		bad("-max-disturbance %v: want 0 to 100", c.MaxDisturbance)
	}
	if c.PID < 0 {
		bad("-pid %d: must not be negative", c.PID)
	}
	if c.Accounts < 0 || c.Accounts > maxSessions {
		bad("-accounts %d: want 0 to %d", c.Accounts, maxSessions)
	}
	need := 0
	switch c.Scenario {
	case scenarioIdle, scenarioLogins:
		if c.Sessions < 1 || c.Sessions > maxSessions {
			bad("-n %d: want 1 to %d", c.Sessions, maxSessions)
		}
		need = c.Sessions
		if c.Scenario == scenarioLogins && c.Accounts > 0 {
			need = c.Accounts // logins cycle over the accounts
		}
	case scenarioThroughput, scenarioRate:
		if c.Pairs < 1 || c.Pairs > maxPairs {
			bad("-pairs %d: want 1 to %d", c.Pairs, maxPairs)
		}
		need = 2 * c.Pairs
		if c.Scenario == scenarioThroughput && (c.Window < 1 || c.Window > maxWindow) {
			bad("-window %d: want 1 to %d", c.Window, maxWindow)
		}
		if c.Scenario == scenarioRate && (c.Rate <= 0 || c.Rate > maxRate) {
			bad("-rate %v: want more than 0 and at most %d", c.Rate, maxRate)
		}
	case scenarioMUC:
		if c.Occupants < 2 || c.Occupants > maxOccupants {
			bad("-occupants %d: want 2 to %d", c.Occupants, maxOccupants)
		}
		need = c.Occupants
		if c.Rate < 0 || c.Rate > maxRate {
			bad("-rate %v: want 0 (max rate) to %d", c.Rate, maxRate)
		}
		if c.Rate == 0 && (c.Window < 1 || c.Window > maxWindow) {
			bad("-window %d: want 1 to %d", c.Window, maxWindow)
		}
		if c.Room == "" || strings.ContainsAny(c.Room, "@/ '\"<>&") {
			bad("-room %q: want a plain localpart", c.Room)
		}
		if c.MUCDomain == "" {
			c.MUCDomain = "conference." + c.Domain
		}
	default:
		bad("-scenario %q: want one of %s", c.Scenario, strings.Join(scenarioNames, ", "))
	}
	if c.Accounts == 0 {
		c.Accounts = need
	} else if c.Accounts < need {
		bad("-accounts %d: scenario %s needs at least %d", c.Accounts, c.Scenario, need)
	}
	return errors.Join(errs...)
}

// user returns the localpart of account i.
func (c *Config) user(i int) string {
	return strings.Replace(c.UserPattern, "%d", fmt.Sprint(i), 1)
}

// progress writes one progress line.
func (c *Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "junction-load: "+format+"\n", args...)
	}
}
