package gateway_test

import (
	"context"
	"strings"
	"testing"

	"junction/config"
	"junction/gateway"
	"junction/gateway/admin"
	"junction/gateway/gatewaytest"
	"junction/xmpp/component"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
	"junction/xmpp/xmpptest"
)

func withComponent(domain, secret string) gatewaytest.Option {
	return func(c *config.Config) {
		c.Components.Listen = "127.0.0.1:0"
		c.Components.External = append(c.Components.External, config.ExternalComponent{Domain: domain, Secret: secret})
	}
}

// dialComponent connects as an external component and returns the stream.
func dialComponent(t *testing.T, srv *gatewaytest.Server, domain, secret string) (*xmpptest.Client, string) {
	t.Helper()
	c := xmpptest.DialRaw(t, srv.Addr("components").String())
	c.Send(string(stream.Header{NS: component.NS, To: domain}.AppendOpen(nil)))
	h := c.ReadHeader()
	id := stream.Attr(h.Attrs, "id")
	c.Send("<handshake>" + component.Handshake(id, secret) + "</handshake>")
	return c, id
}

func TestExternalComponent(t *testing.T) {
	srv := gatewaytest.Start(t, withComponent("echo.localhost", "s3cret-s3cret"))
	srv.AddUser(t, "alice", pw)
	alice := srv.Login(t, "alice", pw, "a")

	comp, _ := dialComponent(t, srv, "echo.localhost", "s3cret-s3cret")
	if n := comp.MustNext(); n.Name.Local != "handshake" {
		t.Fatalf("got %s, want <handshake/>", xmpptest.XML(n))
	}
	// A client's message reaches the component with the client's full JID.
	alice.Send("<message to='bot@echo.localhost' type='chat' id='e1'><body>ping</body></message>")
	alice.Ping()
	n := comp.MustNext()
	if n.Name.Space != component.NS || n.Attr("from") != "alice@localhost/a" || n.Attr("to") != "bot@echo.localhost" {
		t.Fatalf("component got %s", xmpptest.XML(n))
	}
	// The component answers; the client sees it as jabber:client.
	comp.Send("<message from='bot@echo.localhost' to='alice@localhost/a' type='chat'><body>pong</body></message>")
	// A foreign from is refused with an error back to the component.
	comp.Send("<message from='mallory@localhost' to='alice@localhost/a' type='chat' id='spoof'><body>spoof</body></message>")
	if e := comp.MustNext(); e.Attr("type") != "error" || e.Attr("id") != "spoof" {
		t.Fatalf("component got %s, want an error for the spoofed from", xmpptest.XML(e))
	}
	got := alice.Ping()
	m := find(t, "pong", got, func(n *xmltok.Node) bool { return n.Attr("from") == "bot@echo.localhost" })
	if m.Name.Space != "jabber:client" || m.Child("", "body").Text != "pong" {
		t.Fatalf("alice got %s", xmpptest.XML(m))
	}
	for _, n := range got {
		if strings.Contains(xmpptest.XML(n), "spoof") {
			t.Fatalf("spoofed stanza delivered: %s", xmpptest.XML(n))
		}
	}
	// Disco#items on the host lists the component.
	alice.Send("<iq type='get' to='localhost' id='i'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
	items := only(t, alice.Ping())
	if it := items.Child("http://jabber.org/protocol/disco#items", "query").Child("", "item"); it == nil || it.Attr("jid") != "echo.localhost" {
		t.Fatalf("got %s, want echo.localhost listed", xmpptest.XML(items))
	}

	// A second connection for the same domain is refused; the first keeps working.
	second, _ := dialComponent(t, srv, "echo.localhost", "s3cret-s3cret")
	if got := second.StreamError(); got != stream.Conflict {
		t.Fatalf("second connection: got %q, want conflict", got)
	}
	alice.Send("<message to='bot@echo.localhost' type='chat'><body>still there?</body></message>")
	alice.Ping()
	if n := comp.MustNext(); n.Child("", "body").Text != "still there?" {
		t.Fatalf("component got %s", xmpptest.XML(n))
	}

	// When the component goes away, its domain is unavailable again.
	comp.Close()
	alice.Send("<message to='bot@echo.localhost' type='chat' id='gone'><body>x</body></message>")
	n = find(t, "error", alice.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "gone" })
	if c := errorCondition(n); c != "remote-server-not-found" && c != "service-unavailable" {
		t.Fatalf("got %s, want an error", xmpptest.XML(n))
	}
}

func TestComponentBadHandshake(t *testing.T) {
	srv := gatewaytest.Start(t, withComponent("echo.localhost", "s3cret-s3cret"))
	for _, tc := range []struct{ name, domain, secret, want string }{
		{"wrong secret", "echo.localhost", "wrong-wrong", stream.NotAuthorized},
		{"unknown domain", "nope.localhost", "s3cret-s3cret", stream.HostUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := dialComponent(t, srv, tc.domain, tc.secret)
			if got := c.StreamError(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestComponentDisableEnable(t *testing.T) {
	srv := gatewaytest.Start(t, withComponent("echo.localhost", "s3cret-s3cret"))
	sock := gateway.ControlSocket(srv.Config.DataDir)
	comp, _ := dialComponent(t, srv, "echo.localhost", "s3cret-s3cret")
	comp.MustNext() // <handshake/>
	list := func() string {
		out, err := admin.Call(sock, "component", "list")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	if got, want := list(), "echo.localhost external connected"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := admin.Call(sock, "component", "disable", "echo.localhost"); err != nil {
		t.Fatal(err)
	}
	if got := comp.StreamError(); got != stream.SystemShutdown {
		t.Fatalf("disabled component got %q, want system-shutdown", got)
	}
	again, _ := dialComponent(t, srv, "echo.localhost", "s3cret-s3cret")
	if got := again.StreamError(); got != stream.HostUnknown {
		t.Fatalf("reconnect while disabled: got %q, want host-unknown", got)
	}
	if got, want := list(), "echo.localhost external disabled"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := admin.Call(sock, "component", "enable", "echo.localhost"); err != nil {
		t.Fatal(err)
	}
	third, _ := dialComponent(t, srv, "echo.localhost", "s3cret-s3cret")
	if n := third.MustNext(); n.Name.Local != "handshake" {
		t.Fatalf("after enable got %s, want <handshake/>", xmpptest.XML(n))
	}
	if _, err := admin.Call(sock, "component", "disable", "nope.localhost"); err == nil || !strings.Contains(err.Error(), "not a configured component") {
		t.Fatalf("got %v, want not a configured component", err)
	}
}

func TestReloadComponents(t *testing.T) {
	srv := gatewaytest.Start(t)
	next := *srv.Config
	next.Components.External = []config.ExternalComponent{{Domain: "late.localhost", Secret: "added-later"}}
	// The listener itself needs a restart; this server has one already.
	if err := srv.Reload(context.Background(), &next); err != nil {
		t.Fatal(err)
	}
	if got := srv.Components(); len(got) != 1 || got[0] != "late.localhost external not-connected" {
		t.Fatalf("got %v after reload", got)
	}
}
