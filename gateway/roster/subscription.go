package roster

import (
	"context"
	"fmt"

	"junction/gateway/session"
	"junction/registry"
	"junction/xmpp/jid"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// IsSubscription reports whether a presence type is a subscription verb.
func IsSubscription(typ string) bool {
	switch typ {
	case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
		return true
	}
	return false
}

// Outbound processes a subscription presence a local user sent (RFC 6121
// §3.1.2, §3.2.2, §3.3.2, §3.4): the user's roster changes, then the
// stanza goes to the contact, whose own server (this one, when the contact
// is local) runs the inbound half.
func (s *Service) Outbound(ctx context.Context, st *stanza.Stanza) error {
	user := st.From.Bare()
	contact := st.To.Bare()
	if contact == user || contact.Localpart() == "" {
		return stanza.Errorf(stanza.Modify, stanza.BadRequest, "subscriptions are between accounts")
	}
	unlock := s.lock(user, contact)
	defer unlock()
	it, err := s.item(ctx, user, contact)
	if err != nil {
		return err
	}
	route := true
	switch st.Type {
	case "subscribe":
		if it.Subscription != registry.SubTo && it.Subscription != registry.SubBoth {
			it.Ask = true
		}
		// Asking creates the roster item (§3.1.2).
		it.InRoster = true
	case "subscribed":
		switch {
		case it.PendingIn:
			// Approval puts the requester in the roster (§3.1.5).
			it.PendingIn, it.PendingInStanza, it.InRoster = false, "", true
			it.Subscription = withFrom(it.Subscription, true)
		case it.Subscription == registry.SubFrom || it.Subscription == registry.SubBoth:
			route = false // nothing changes, nothing to say
		default:
			// Pre-approval (§3.4): remembered, not routed.
			it.Approved = true
			route = false
		}
	case "unsubscribe":
		it.Ask = false
		it.Subscription = withTo(it.Subscription, false)
	case "unsubscribed":
		it.PendingIn, it.PendingInStanza, it.Approved = false, "", false
		it.Subscription = withFrom(it.Subscription, false)
	default:
		return fmt.Errorf("roster: %q is not a subscription verb", st.Type)
	}
	if err := s.put(ctx, it, true); err != nil {
		return err
	}
	if !route {
		return nil
	}
	// The contact sees the request from the user's bare JID.
	out := stanza.New(stanza.Presence, user, contact, st.Type, st.ID, payload(st)...)
	s.inbound(ctx, out)
	if st.Type == "subscribed" {
		s.sendCurrentPresence(ctx, user, contact)
	}
	if st.Type == "unsubscribed" {
		s.sendUnavailable(ctx, user, contact)
	}
	return nil
}

// payload keeps the status and other children of a subscription request.
func payload(st *stanza.Stanza) []*xmltok.Node {
	n, err := st.Node()
	if err != nil {
		return nil
	}
	return n.Children
}

// inbound runs the contact-side half of a subscription stanza, with the
// pair's lock held. For a remote contact the stanza is routed.
func (s *Service) inbound(ctx context.Context, st *stanza.Stanza) {
	contact := st.To.Bare()
	user := st.From.Bare()
	if !s.local(contact.Domainpart()) {
		s.route(ctx, st)
		return
	}
	it, err := s.item(ctx, contact, user)
	if err != nil {
		s.log.Error("load roster item", "user", contact.String(), "contact", user.String(), "err", err)
		return
	}
	deliver := true
	switch st.Type {
	case "subscribe":
		switch {
		case it.Subscription == registry.SubFrom || it.Subscription == registry.SubBoth:
			// Already subscribed: answer for the contact (§3.1.3).
			deliver = false
			s.autoReply(ctx, contact, user, "subscribed")
		case it.Approved:
			it.Approved = false
			it.Subscription = withFrom(it.Subscription, true)
			deliver = false
			s.autoReply(ctx, contact, user, "subscribed")
		case it.PendingIn:
			// Already asked and not answered: nothing changes, nothing is
			// delivered again (RFC 6121 Appendix A.3.1).
			return
		default:
			it.PendingIn, it.PendingInStanza = true, st.Raw
		}
	case "subscribed":
		if !it.Ask {
			return // not asked for: ignore (§3.1.6)
		}
		it.Ask = false
		it.Subscription = withTo(it.Subscription, true)
	case "unsubscribe":
		if it.Subscription != registry.SubFrom && it.Subscription != registry.SubBoth && !it.PendingIn {
			return
		}
		it.PendingIn, it.PendingInStanza = false, ""
		it.Subscription = withFrom(it.Subscription, false)
	case "unsubscribed":
		if it.Subscription != registry.SubTo && it.Subscription != registry.SubBoth && !it.Ask {
			return
		}
		it.Ask = false
		it.Subscription = withTo(it.Subscription, false)
	}
	if err := s.put(ctx, it, true); err != nil {
		s.log.Error("store roster item", "user", contact.String(), "contact", user.String(), "err", err)
		return
	}
	if deliver {
		s.deliverToAvailable(contact, st)
	}
	if st.Type == "unsubscribe" {
		// The requester no longer gets the contact's presence: say the
		// contact is gone for it (§3.3.3).
		s.sendUnavailable(ctx, contact, user)
	}
}

// autoReply answers a subscription on behalf of from (the server acts for
// the account), running the other side's inbound processing.
func (s *Service) autoReply(ctx context.Context, from, to jid.JID, typ string) {
	st := stanza.New(stanza.Presence, from, to, typ, "")
	// The reply runs the requester's side inbound; its lock is already held.
	s.inbound(ctx, st)
	if typ == "subscribed" {
		s.sendCurrentPresence(ctx, from, to)
	}
}

// deliverToAvailable hands st to every available resource of bare.
func (s *Service) deliverToAvailable(bare jid.JID, st *stanza.Stanza) {
	var buf [8]session.Snapshot
	for _, ss := range s.sessions.Sessions(buf[:0], bare) {
		if ss.Available {
			ss.Conn.Send(st)
		}
	}
}

// sendCurrentPresence sends from's available presence to the account to,
// after from granted a subscription.
func (s *Service) sendCurrentPresence(ctx context.Context, from, to jid.JID) {
	var buf [8]session.Snapshot
	for _, ss := range s.sessions.Sessions(buf[:0], from) {
		if ss.Available && ss.Presence != nil {
			if p, err := stanza.WithAddresses(ss.Presence, ss.Conn.JID(), to); err == nil {
				s.route(ctx, p)
			}
		}
	}
}

// sendUnavailable tells to that from's resources are gone for it.
func (s *Service) sendUnavailable(ctx context.Context, from, to jid.JID) {
	var buf [8]session.Snapshot
	for _, ss := range s.sessions.Sessions(buf[:0], from) {
		if ss.Available {
			s.route(ctx, stanza.New(stanza.Presence, ss.Conn.JID(), to, "unavailable", ""))
		}
	}
}

func withFrom(sub registry.Subscription, on bool) registry.Subscription {
	to := sub == registry.SubTo || sub == registry.SubBoth
	return join(to, on)
}

func withTo(sub registry.Subscription, on bool) registry.Subscription {
	from := sub == registry.SubFrom || sub == registry.SubBoth
	return join(on, from)
}

func join(to, from bool) registry.Subscription {
	switch {
	case to && from:
		return registry.SubBoth
	case to:
		return registry.SubTo
	case from:
		return registry.SubFrom
	}
	return registry.SubNone
}

// Contacts is what presence broadcast needs of an account's roster.
type Contacts struct {
	// Subscribers (from/both) receive the account's presence.
	Subscribers []jid.JID
	// Subscriptions (to/both) are probed at initial presence.
	Subscriptions []jid.JID
	// Pending are stored inbound subscription requests, re-delivered at login.
	Pending []*stanza.Stanza
}

// Contacts loads user's presence-relevant roster state.
func (s *Service) Contacts(ctx context.Context, user jid.JID) (Contacts, error) {
	items, _, err := s.store.Roster(ctx, user.Domainpart(), user.Localpart())
	if err != nil {
		return Contacts{}, fmt.Errorf("load roster of %s: %w", user, err)
	}
	var c Contacts
	for _, it := range items {
		j, err := jid.Parse(it.Contact)
		if err != nil {
			continue
		}
		switch it.Subscription {
		case registry.SubFrom:
			c.Subscribers = append(c.Subscribers, j)
		case registry.SubTo:
			c.Subscriptions = append(c.Subscriptions, j)
		case registry.SubBoth:
			c.Subscribers = append(c.Subscribers, j)
			c.Subscriptions = append(c.Subscriptions, j)
		}
		if it.PendingIn && it.PendingInStanza != "" {
			if st, err := stanza.Parse(it.PendingInStanza); err == nil {
				c.Pending = append(c.Pending, st)
			}
		}
	}
	return c, nil
}

// IsSubscriber reports whether contact receives user's presence.
func (s *Service) IsSubscriber(ctx context.Context, user, contact jid.JID) bool {
	it, err := s.store.RosterItem(ctx, user.Domainpart(), user.Localpart(), contact.Bare().String())
	return err == nil && (it.Subscription == registry.SubFrom || it.Subscription == registry.SubBoth)
}
