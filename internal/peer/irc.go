package peer

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// errIRCLine is a line the IRC parser cannot make sense of.
var errIRCLine = errors.New("peer: malformed IRC line")

// IRCMessage is one parsed IRC line (RFC 1459 §2.3.1, without tags).
type IRCMessage struct {
	Prefix  string
	Command string
	Params  []string
}

// ParseIRC parses a line without its CR LF.
func ParseIRC(line string) (IRCMessage, error) {
	var m IRCMessage
	if strings.HasPrefix(line, "@") { // IRCv3 tags: not used here, skipped
		_, rest, ok := strings.Cut(line, " ")
		if !ok {
			return m, fmt.Errorf("%w: %q", errIRCLine, line)
		}
		line = rest
	}
	if strings.HasPrefix(line, ":") {
		prefix, rest, ok := strings.Cut(line[1:], " ")
		if !ok {
			return m, fmt.Errorf("%w: %q", errIRCLine, line)
		}
		m.Prefix, line = prefix, rest
	}
	line = strings.TrimLeft(line, " ")
	for line != "" {
		if strings.HasPrefix(line, ":") && m.Command != "" {
			m.Params = append(m.Params, line[1:])
			break
		}
		word, rest, _ := strings.Cut(line, " ")
		if m.Command == "" {
			m.Command = strings.ToUpper(word)
		} else {
			m.Params = append(m.Params, word)
		}
		line = strings.TrimLeft(rest, " ")
	}
	if m.Command == "" {
		return m, fmt.Errorf("%w: no command", errIRCLine)
	}
	return m, nil
}

// Nick is the nickname in the prefix (nick!user@host).
func (m IRCMessage) Nick() string {
	n, _, _ := strings.Cut(m.Prefix, "!")
	return n
}

// Param returns the i-th parameter, or "" if there are fewer.
func (m IRCMessage) Param(i int) string {
	if i < len(m.Params) {
		return m.Params[i]
	}
	return ""
}

// String is the message as a line, for failure messages.
func (m IRCMessage) String() string {
	var b strings.Builder
	if m.Prefix != "" {
		b.WriteString(":" + m.Prefix + " ")
	}
	b.WriteString(m.Command)
	for i, p := range m.Params {
		if i == len(m.Params)-1 && (p == "" || strings.ContainsAny(p, " :")) {
			b.WriteString(" :" + p)
		} else {
			b.WriteString(" " + p)
		}
	}
	return b.String()
}

// IRCClient is a raw IRC connection for tests. It answers PING by itself.
type IRCClient struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
	Nick string
}

func newIRCClient(t testing.TB, nc net.Conn, nick string) *IRCClient {
	return &IRCClient{t: t, conn: nc, r: bufio.NewReader(nc), Nick: nick}
}

// Send writes one line; CR and LF inside it fail the test.
func (c *IRCClient) Send(line string) {
	c.t.Helper()
	if strings.ContainsAny(line, "\r\n") {
		c.t.Fatalf("IRC line with CR or LF: %q", line)
	}
	c.conn.SetWriteDeadline(time.Now().Add(IRCTimeout))
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatalf("IRC write: %v", err)
	}
}

// Next reads the next message other than PING, waiting until deadline.
func (c *IRCClient) Next(deadline time.Time) (IRCMessage, error) {
	for {
		c.conn.SetReadDeadline(deadline)
		line, err := c.r.ReadString('\n')
		if err != nil {
			return IRCMessage{}, fmt.Errorf("IRC read: %w", err)
		}
		m, err := ParseIRC(strings.TrimRight(line, "\r\n"))
		if err != nil {
			return m, err
		}
		if m.Command == "PING" {
			c.conn.SetWriteDeadline(deadline)
			if _, err := c.conn.Write([]byte("PONG :" + m.Param(0) + "\r\n")); err != nil {
				return m, fmt.Errorf("IRC write: %w", err)
			}
			continue
		}
		return m, nil
	}
}

// Expect reads until a message satisfies match, within IRCTimeout, and
// returns it; what is skipped on the way is logged.
func (c *IRCClient) Expect(what string, match func(IRCMessage) bool) IRCMessage {
	c.t.Helper()
	deadline := time.Now().Add(IRCTimeout)
	var skipped []string
	for {
		m, err := c.Next(deadline)
		if err != nil {
			c.t.Fatalf("IRC %s waiting for %s: %v; skipped:\n%s", c.Nick, what, err, strings.Join(skipped, "\n"))
		}
		if match(m) {
			return m
		}
		skipped = append(skipped, m.String())
	}
}

// Join joins channel and waits for the end of its names list (366).
func (c *IRCClient) Join(channel string) {
	c.t.Helper()
	c.Send("JOIN " + channel)
	c.Expect("end of NAMES for "+channel, func(m IRCMessage) bool {
		return m.Command == "366" && strings.EqualFold(m.Param(1), channel)
	})
}
