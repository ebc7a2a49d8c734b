// Package serverinfo answers the iq requests every XMPP entity is asked
// about itself: XEP-0199 ping, XEP-0092 software version and XEP-0030
// service discovery (whose feature list comes from the handlers actually
// registered, so nothing is advertised that is not handled).
package serverinfo

import (
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"slices"
	"strings"

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
	// CapsNode, when set, makes disco#info also answer for the XEP-0115
	// node CapsNode#ver.
	CapsNode string
}

// NSCaps is XEP-0115's namespace.
const NSCaps = "http://jabber.org/protocol/caps"

// CapsVer computes the XEP-0115 §5.1 verification string (SHA-1) of an
// entity without extended information.
func CapsVer(ids []Identity, features []string) string {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b Identity) int {
		return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name))
	})
	features = slices.Clone(features)
	slices.Sort(features)
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(id.Category + "/" + id.Type + "//" + id.Name + "<")
	}
	for _, f := range slices.Compact(features) {
		b.WriteString(f + "<")
	}
	sum := sha1.Sum([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// allFeatures is what disco#info lists: disco#info itself and src's.
func (d discoInfo) allFeatures() []string {
	f := append([]string{NSDiscoInfo}, d.src.Features()...)
	slices.Sort(f)
	return slices.Compact(f)
}

// Caps returns the XEP-0115 element advertising src, for stream features
// and presence.
func Caps(src DiscoSource) *xmltok.Node {
	ver := CapsVer(src.Identities, discoInfo{src}.allFeatures())
	return xmltok.NewNode(NSCaps, "c",
		xmltok.Attr{Name: xmltok.Name{Local: "hash"}, Value: "sha-1"},
		xmltok.Attr{Name: xmltok.Name{Local: "node"}, Value: src.CapsNode},
		xmltok.Attr{Name: xmltok.Name{Local: "ver"}, Value: ver})
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
	features := d.allFeatures()
	q := xmltok.NewNode(NSDiscoInfo, "query")
	if node := p.Attr("node"); node != "" {
		if d.src.CapsNode == "" || node != d.src.CapsNode+"#"+CapsVer(d.src.Identities, features) {
			return nil, stanza.Errorf(stanza.Cancel, stanza.ItemNotFound, "no such node")
		}
		q.Attrs = append(q.Attrs, xmltok.Attr{Name: xmltok.Name{Local: "node"}, Value: node})
	}
	for _, id := range d.src.Identities {
		attrs := []xmltok.Attr{{Name: xmltok.Name{Local: "category"}, Value: id.Category}, {Name: xmltok.Name{Local: "type"}, Value: id.Type}}
		if id.Name != "" {
			attrs = append(attrs, xmltok.Attr{Name: xmltok.Name{Local: "name"}, Value: id.Name})
		}
		q.Add(xmltok.NewNode(NSDiscoInfo, "identity", attrs...))
	}
	for _, f := range features {
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
