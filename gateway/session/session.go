// Package session owns the bound resources of every local account: which
// full JIDs are online, their presence and priority (RFC 6121 §4), and the
// conflict policy when a resource is bound twice.
package session

import (
	"crypto/rand"
	"encoding/base32"
	"sync"

	"junction/xmpp/jid"
	"junction/xmpp/stanza"
)

// MaxPerAccount bounds the sessions of one account.
const MaxPerAccount = 32

// Conn is a bound client stream as the session manager sees it.
type Conn interface {
	JID() jid.JID
	// Send queues st for the client without blocking.
	Send(st *stanza.Stanza) error
	// CloseWithError closes the stream with a stream error condition.
	CloseWithError(condition string)
}

// Session is one bound resource.
type Session struct {
	Conn Conn

	// Guarded by the Manager's lock.
	available  bool
	priority   int
	presence   *stanza.Stanza // last broadcast presence, nil before initial presence
	interested bool           // asked for the roster: gets roster pushes
	carbons    bool           // XEP-0280 carbons enabled
	directed   []jid.JID      // got directed presence; told when the session goes away
}

// maxDirected bounds the directed-presence recipients remembered per session.
const maxDirected = 256

// Available reports whether the session has sent available presence.
func (s *Session) Available() bool { return s.available }

// Priority is the priority of the session's last presence (0 by default).
func (s *Session) Priority() int { return s.priority }

// Presence is the session's last broadcast presence, or nil.
func (s *Session) Presence() *stanza.Stanza { return s.presence }

// Manager maps accounts to their sessions. It is safe for concurrent use.
type Manager struct {
	mu       sync.RWMutex
	accounts map[jid.JID][]*Session // by bare JID
	count    int
}

// NewManager returns an empty Manager.
func NewManager() *Manager {
	return &Manager{accounts: make(map[jid.JID][]*Session)}
}

// Bind adds c under its full JID. A session already bound to that full JID
// is replaced and returned, so the caller can close it with conflict (the
// newest login wins, as Prosody and ejabberd do by default). ok is false
// when the account already has MaxPerAccount sessions.
func (m *Manager) Bind(c Conn) (replaced Conn, ok bool) {
	full := c.JID()
	bare := full.Bare()
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.accounts[bare]
	for i, s := range ss {
		if s.Conn.JID() == full {
			replaced = s.Conn
			ss[i] = &Session{Conn: c}
			return replaced, true
		}
	}
	if len(ss) >= MaxPerAccount {
		return nil, false
	}
	m.accounts[bare] = append(ss, &Session{Conn: c})
	m.count++
	return nil, true
}

// Unbind removes c. It returns the removed session (nil if c was not bound
// or had been replaced).
func (m *Manager) Unbind(c Conn) *Session {
	full := c.JID()
	bare := full.Bare()
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.accounts[bare]
	for i, s := range ss {
		if s.Conn == c {
			last := len(ss) - 1
			ss[i] = ss[last]
			ss[last] = nil
			ss = ss[:last]
			if len(ss) == 0 {
				delete(m.accounts, bare)
			} else {
				m.accounts[bare] = ss
			}
			m.count--
			return s
		}
	}
	return nil
}

// Lookup returns the session bound to full, or nil.
func (m *Manager) Lookup(full jid.JID) *Session {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, s := range m.accounts[full.Bare()] {
		if s.Conn.JID() == full {
			return s
		}
	}
	return nil
}

// HasResource reports whether full is bound.
func (m *Manager) HasResource(full jid.JID) bool { return m.Lookup(full) != nil }

// Online reports whether bare has any bound session.
func (m *Manager) Online(bare jid.JID) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.accounts[bare]) > 0
}

// Snapshot is a session's state at one moment.
type Snapshot struct {
	Conn      Conn
	Available bool
	Priority  int
	Presence  *stanza.Stanza
	Carbons   bool
}

// Sessions appends the state of bare's sessions to dst.
func (m *Manager) Sessions(dst []Snapshot, bare jid.JID) []Snapshot {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, s := range m.accounts[bare] {
		dst = append(dst, Snapshot{Conn: s.Conn, Available: s.available, Priority: s.priority, Presence: s.presence, Carbons: s.carbons})
	}
	return dst
}

// SetPresence records the broadcast presence of c's session: st nil or of
// type unavailable makes it unavailable. It reports whether this is the
// session's initial presence.
func (m *Manager) SetPresence(c Conn, st *stanza.Stanza, priority int) (initial bool, ok bool) {
	full := c.JID()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.accounts[full.Bare()] {
		if s.Conn != c {
			continue
		}
		if st == nil || st.Type == "unavailable" {
			s.available, s.presence, s.priority = false, nil, 0
			return false, true
		}
		initial = !s.available
		s.available, s.presence, s.priority = true, st.WithoutTree(), priority
		return initial, true
	}
	return false, false
}

// SetInterested marks c's session as interested in roster pushes (it has
// requested the roster, RFC 6121 §2.1.6).
func (m *Manager) SetInterested(c Conn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.find(c); s != nil {
		s.interested = true
	}
}

// Interested appends the connections of bare that get roster pushes.
func (m *Manager) Interested(dst []Conn, bare jid.JID) []Conn {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, s := range m.accounts[bare] {
		if s.interested {
			dst = append(dst, s.Conn)
		}
	}
	return dst
}

// SetCarbons turns XEP-0280 carbons on or off for the session bound to full.
func (m *Manager) SetCarbons(full jid.JID, on bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.accounts[full.Bare()] {
		if s.Conn.JID() == full {
			s.carbons = on
			return true
		}
	}
	return false
}

// AddDirected remembers that c sent directed available presence to to.
func (m *Manager) AddDirected(c Conn, to jid.JID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.find(c)
	if s == nil || len(s.directed) >= maxDirected {
		return
	}
	for _, d := range s.directed {
		if d == to {
			return
		}
	}
	s.directed = append(s.directed, to)
}

// RemoveDirected forgets a directed-presence recipient of c.
func (m *Manager) RemoveDirected(c Conn, to jid.JID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.find(c)
	if s == nil {
		return
	}
	for i, d := range s.directed {
		if d == to {
			s.directed = append(s.directed[:i], s.directed[i+1:]...)
			return
		}
	}
}

// TakeDirected returns and forgets c's directed-presence recipients.
func (m *Manager) TakeDirected(c Conn) []jid.JID {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.find(c)
	if s == nil {
		return nil
	}
	d := s.directed
	s.directed = nil
	return d
}

// Directed returns the directed-presence recipients of a removed session.
func (s *Session) Directed() []jid.JID { return s.directed }

func (m *Manager) find(c Conn) *Session {
	for _, s := range m.accounts[c.JID().Bare()] {
		if s.Conn == c {
			return s
		}
	}
	return nil
}

// Count is the number of bound sessions.
func (m *Manager) Count() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.count
}

// All returns every bound connection (for shutdown and admin views).
func (m *Manager) All() []Conn {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Conn, 0, m.count)
	for _, ss := range m.accounts {
		for _, s := range ss {
			out = append(out, s.Conn)
		}
	}
	return out
}

var resourceEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewResource returns a random resourcepart for a client that let the
// server choose.
func NewResource() string {
	var b [10]byte
	rand.Read(b[:])
	return "junction-" + resourceEncoding.EncodeToString(b[:])
}
