package router

import (
	"context"
	"strings"

	"junction/gateway/session"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// XEP-0280 message carbons.
const (
	NSCarbons = "urn:xmpp:carbons:2"
	NSForward = "urn:xmpp:forward:0"
	nsHints   = "urn:xmpp:hints"
)

// NewCarbons returns the handlers that enable and disable carbons per
// session, for the account mux.
func NewCarbons(sessions *session.Manager) []IQHandler {
	return []IQHandler{carbonsToggle{sessions, "enable"}, carbonsToggle{sessions, "disable"}}
}

type carbonsToggle struct {
	sessions *session.Manager
	verb     string
}

func (c carbonsToggle) Payload() xmltok.Name { return xmltok.Name{Space: NSCarbons, Local: c.verb} }
func (c carbonsToggle) Features() []string {
	if c.verb == "enable" {
		return []string{NSCarbons}
	}
	return nil
}

func (c carbonsToggle) HandleIQ(_ context.Context, req *stanza.Stanza, _ *xmltok.Node) (*stanza.Stanza, error) {
	if req.Type != "set" || req.To != req.From.Bare() {
		return nil, stanza.Errorf(stanza.Modify, stanza.BadRequest, "")
	}
	if !c.sessions.SetCarbons(req.From, c.verb == "enable") {
		return nil, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "")
	}
	return stanza.Result(req), nil
}

// carbonEligible applies XEP-0280 §6: chat messages, unless marked private
// or no-copy. The namespace test on the raw bytes avoids parsing the common
// message.
func carbonEligible(st *stanza.Stanza) bool {
	if st.Name != stanza.Message || st.Type != "chat" {
		return false
	}
	if strings.Contains(st.Raw, NSCarbons) || strings.Contains(st.Raw, nsHints) {
		n, err := st.Node()
		if err != nil {
			return false
		}
		if n.Child(NSCarbons, "private") != nil || n.Child(nsHints, "no-copy") != nil || n.Child(NSCarbons, "received") != nil || n.Child(NSCarbons, "sent") != nil {
			return false
		}
	}
	return true
}

// sendCarbons copies st (direction "sent" or "received") to every
// carbons-enabled available resource of account except skip.
func (r *Router) sendCarbons(account jid.JID, st *stanza.Stanza, direction string, skip func(jid.JID) bool) {
	var buf [8]session.Snapshot
	ss := r.cfg.Sessions.Sessions(buf[:0], account)
	var wrapped *xmltok.Node
	for _, s := range ss {
		if !s.Carbons || !s.Available || skip(s.Conn.JID()) {
			continue
		}
		if wrapped == nil {
			n, err := st.Node()
			if err != nil {
				return
			}
			wrapped = xmltok.NewNode(NSCarbons, direction).Add(xmltok.NewNode(NSForward, "forwarded").Add(n))
		}
		s.Conn.Send(stanza.New(stanza.Message, account, s.Conn.JID(), "chat", "", wrapped))
	}
}
