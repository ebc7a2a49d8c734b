// Package serverinfo answers the iq requests every XMPP entity is asked
// about itself: XEP-0199 ping, XEP-0092 software version and XEP-0030
// service discovery (whose feature list comes from the handlers actually
// registered, so nothing is advertised that is not handled).
package serverinfo

import (
	"context"

	"junction/gateway/router"
	"junction/xmpp/stanza"
	"junction/xmpp/xmltok"
)

// Namespaces answered here.
const (
	NSPing      = "urn:xmpp:ping"
	NSVersion   = "jabber:iq:version"
	NSDiscoInfo = "http://jabber.org/protocol/disco#info"
	NSDiscoItem = "http://jabber.org/protocol/disco#items"
)

type ping struct{}

// Ping answers XEP-0199 pings.
func Ping() router.IQHandler { return ping{} }

func (ping) Payload() xmltok.Name { return xmltok.Name{Space: NSPing, Local: "ping"} }
func (ping) Features() []string   { return []string{NSPing} }
func (ping) HandleIQ(_ context.Context, req *stanza.Stanza, _ *xmltok.Node) (*stanza.Stanza, error) {
	if req.Type != "get" {
		return nil, stanza.Errorf(stanza.Cancel, stanza.BadRequest, "ping is a get")
	}
	return stanza.Result(req), nil
}

type version struct{ name, version, os string }

// Version answers XEP-0092 software version requests with name and ver.
// The operating system is not disclosed.
func Version(name, ver string) router.IQHandler { return version{name: name, version: ver} }

func (version) Payload() xmltok.Name { return xmltok.Name{Space: NSVersion, Local: "query"} }
func (version) Features() []string   { return []string{NSVersion} }
func (v version) HandleIQ(_ context.Context, req *stanza.Stanza, _ *xmltok.Node) (*stanza.Stanza, error) {
	if req.Type != "get" {
		return nil, stanza.Errorf(stanza.Cancel, stanza.BadRequest, "version is a get")
	}
	q := xmltok.NewNode(NSVersion, "query").Add(
		xmltok.NewNode(NSVersion, "name").SetText(v.name),
		xmltok.NewNode(NSVersion, "version").SetText(v.version),
	)
	return stanza.Result(req, q), nil
}

// Identity is a XEP-0030 identity.
type Identity struct{ Category, Type, Name string }

// Item is a XEP-0030 item.
type Item struct{ JID, Name string }

// DiscoSource describes the entity a disco handler answers for.
type DiscoSource struct {
	Identities []Identity
	// Features returns the features to list besides disco#info itself,
	// typically the mux's own Features.
	Features func() []string
	// Items returns the items of the addressed entity (may be nil).
	Items func(ctx context.Context, req *stanza.Stanza) []Item
}

type discoInfo struct{ src DiscoSource }
type discoItems struct{ src DiscoSource }

// Disco returns the disco#info and disco#items handlers for src.
func Disco(src DiscoSource) []router.IQHandler {
	return []router.IQHandler{discoInfo{src}, discoItems{src}}
}

func (discoInfo) Payload() xmltok.Name { return xmltok.Name{Space: NSDiscoInfo, Local: "query"} }
func (discoInfo) Features() []string   { return []string{NSDiscoInfo} }
func (d discoInfo) HandleIQ(_ context.Context, req *stanza.Stanza, p *xmltok.Node) (*stanza.Stanza, error) {
	if req.Type != "get" {
		return nil, stanza.Errorf(stanza.Cancel, stanza.BadRequest, "disco#info is a get")
	}
	if p.Attr("node") != "" {
		return nil, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such node")
	}
	q := xmltok.NewNode(NSDiscoInfo, "query")
	for _, id := range d.src.Identities {
		attrs := []xmltok.Attr{{Name: xmltok.Name{Local: "category"}, Value: id.Category}, {Name: xmltok.Name{Local: "type"}, Value: id.Type}}
		if id.Name != "" {
			attrs = append(attrs, xmltok.Attr{Name: xmltok.Name{Local: "name"}, Value: id.Name})
		}
		q.Add(xmltok.NewNode(NSDiscoInfo, "identity", attrs...))
	}
	for _, f := range d.src.Features() {
		q.Add(xmltok.NewNode(NSDiscoInfo, "feature", xmltok.Attr{Name: xmltok.Name{Local: "var"}, Value: f}))
	}
	return stanza.Result(req, q), nil
}

func (discoItems) Payload() xmltok.Name { return xmltok.Name{Space: NSDiscoItem, Local: "query"} }
func (discoItems) Features() []string   { return []string{NSDiscoItem} }
func (d discoItems) HandleIQ(ctx context.Context, req *stanza.Stanza, p *xmltok.Node) (*stanza.Stanza, error) {
	if req.Type != "get" {
		return nil, stanza.Errorf(stanza.Cancel, stanza.BadRequest, "disco#items is a get")
	}
	if p.Attr("node") != "" {
		return nil, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such node")
	}
	q := xmltok.NewNode(NSDiscoItem, "query")
	if d.src.Items != nil {
		for _, it := range d.src.Items(ctx, req) {
			attrs := []xmltok.Attr{{Name: xmltok.Name{Local: "jid"}, Value: it.JID}}
			if it.Name != "" {
				attrs = append(attrs, xmltok.Attr{Name: xmltok.Name{Local: "name"}, Value: it.Name})
			}
			q.Add(xmltok.NewNode(NSDiscoItem, "item", attrs...))
		}
	}
	return stanza.Result(req, q), nil
}
