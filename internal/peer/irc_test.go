package peer

import (
	"errors"
	"net"
	"slices"
	"testing"
)

func TestParseIRC(t *testing.T) {
	for _, tc := range []struct {
		line string
		want IRCMessage
	}{
		{"PING :irc.test", IRCMessage{Command: "PING", Params: []string{"irc.test"}}},
		{":irc.test 001 bob :Welcome to the net", IRCMessage{Prefix: "irc.test", Command: "001", Params: []string{"bob", "Welcome to the net"}}},
		{":alice!~alice@127.0.0.1 PRIVMSG #junction :hello :) there", IRCMessage{Prefix: "alice!~alice@127.0.0.1", Command: "PRIVMSG", Params: []string{"#junction", "hello :) there"}}},
		{":alice!~a@h JOIN #junction", IRCMessage{Prefix: "alice!~a@h", Command: "JOIN", Params: []string{"#junction"}}},
		{":alice!~a@h PART #junction :", IRCMessage{Prefix: "alice!~a@h", Command: "PART", Params: []string{"#junction", ""}}},
		{"@time=2026-01-01T00:00:00Z :s  NOTICE   *  :x", IRCMessage{Prefix: "s", Command: "NOTICE", Params: []string{"*", "x"}}},
		{"privmsg bob hi", IRCMessage{Command: "PRIVMSG", Params: []string{"bob", "hi"}}},
	} {
		got, err := ParseIRC(tc.line)
		if err != nil {
			t.Errorf("ParseIRC(%q): %v", tc.line, err)
			continue
		}
		if got.Prefix != tc.want.Prefix || got.Command != tc.want.Command || !slices.Equal(got.Params, tc.want.Params) {
			t.Errorf("ParseIRC(%q): got %#v, want %#v", tc.line, got, tc.want)
		}
	}
}

func TestParseIRCMalformed(t *testing.T) {
	for _, line := range []string{"", ":prefix-only", "@tags-only", ":p  "} {
		if _, err := ParseIRC(line); !errors.Is(err, errIRCLine) {
			t.Errorf("ParseIRC(%q): got %v, want errIRCLine", line, err)
		}
	}
}

func TestIRCMessageString(t *testing.T) {
	for _, tc := range []struct {
		m    IRCMessage
		want string
	}{
		{IRCMessage{Prefix: "a!b@c", Command: "PRIVMSG", Params: []string{"#x", "hi there"}}, ":a!b@c PRIVMSG #x :hi there"},
		{IRCMessage{Command: "JOIN", Params: []string{"#x"}}, "JOIN #x"},
		{IRCMessage{Command: "PART", Params: []string{"#x", ""}}, "PART #x :"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestNGIRCd runs the real server with 127.0.0.2:6667 taken, so it has to
// move to another loopback address, and has two clients talk through it.
func TestNGIRCd(t *testing.T) {
	if l, err := net.Listen("tcp", "127.0.0.2:6667"); err == nil {
		defer l.Close()
	}
	s := NGIRCd(t)
	if s.Host == "127.0.0.2" {
		t.Fatalf("got host %s, want another address while 127.0.0.2:6667 is taken", s.Host)
	}
	alice, bob := s.Dial(t, "alice"), s.Dial(t, "bob")
	alice.Join("#t")
	bob.Join("#t")
	alice.Expect("bob joining", func(m IRCMessage) bool { return m.Command == "JOIN" && m.Nick() == "bob" })
	bob.Send("PRIVMSG #t :hello alice")
	m := alice.Expect("bob's message", func(m IRCMessage) bool { return m.Command == "PRIVMSG" })
	if m.Nick() != "bob" || m.Param(0) != "#t" || m.Param(1) != "hello alice" {
		t.Fatalf("got %q, want :bob!… PRIVMSG #t :hello alice", m)
	}
}
