package gateway_test

import (
	"errors"
	"testing"

	"junction/config"
	"junction/gateway/gatewaytest"
	"junction/xmpp/stream"
	"junction/xmpp/xmltok"
	"junction/xmpp/xmpptest"
)

func openRegistration(perIP int) gatewaytest.Option {
	return func(c *config.Config) {
		c.Hosts[0].Registration = "open"
		c.C2S.RegistrationsPerIPHour = perIP
	}
}

func registerIQ(t *testing.T, c *xmpptest.Client, user, pass string) *xmltok.Node {
	t.Helper()
	id := c.ID()
	c.Send("<iq type='set' id='" + id + "'><query xmlns='jabber:iq:register'><username>" + user + "</username><password>" + pass + "</password></query></iq>")
	return c.MustNext()
}

func TestInBandRegistration(t *testing.T) {
	srv := gatewaytest.Start(t, openRegistration(3))
	c := srv.Dial(t)
	if c.Features.Child("http://jabber.org/features/iq-register", "register") != nil {
		t.Fatalf("registration offered before TLS")
	}
	c.StartTLS()
	if c.Features.Child("http://jabber.org/features/iq-register", "register") == nil {
		t.Fatalf("got features %s, want register", xmpptest.XML(c.Features))
	}
	c.Send("<iq type='get' id='g'><query xmlns='jabber:iq:register'/></iq>")
	form := c.MustNext().Child("jabber:iq:register", "query")
	if form == nil || form.Child("", "username") == nil || form.Child("", "password") == nil {
		t.Fatalf("got form %s", xmpptest.XML(form))
	}
	for _, tc := range []struct{ name, user, pass, want string }{
		{"new account", "dora", "pw1", "result"},
		{"taken", "dora", "pw2", "conflict"},
		{"bad username", "a b", "pw", "not-acceptable"},
		{"empty password", "ed", "", "not-acceptable"},
		{"second", "fay", "pw", "result"},
		{"third", "gus", "pw", "result"},
		{"over the hourly limit", "hal", "pw", "resource-constraint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := registerIQ(t, c, tc.user, tc.pass)
			got := n.Attr("type")
			if got == "error" {
				got = errorCondition(n)
			}
			if got != tc.want {
				t.Fatalf("got %s, want %s", xmpptest.XML(n), tc.want)
			}
		})
	}
	if err := c.Auth("SCRAM-SHA-256", "dora", "pw1"); err != nil {
		t.Fatalf("log in with the registered account: %v", err)
	}
	if _, err := c.Bind("r"); err != nil {
		t.Fatal(err)
	}
	c.Send("<presence/>")
	c.Ping()

	// Password change, then removal.
	c.Send("<iq type='set' to='localhost' id='pw'><query xmlns='jabber:iq:register'><username>dora</username><password>new</password></query></iq>")
	if n := find(t, "change result", c.Ping(), func(n *xmltok.Node) bool { return n.Attr("id") == "pw" }); n.Attr("type") != "result" {
		t.Fatalf("got %s", xmpptest.XML(n))
	}
	c2 := srv.Dial(t)
	c2.StartTLS()
	if err := c2.Auth("SCRAM-SHA-256", "dora", "new"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	c.Send("<iq type='set' to='localhost' id='rm'><query xmlns='jabber:iq:register'><remove/></query></iq>")
	n := c.MustNext()
	for n.Name.Local == "presence" {
		n = c.MustNext()
	}
	if n.Attr("id") != "rm" || n.Attr("type") != "result" {
		t.Fatalf("got %s, want the removal result", xmpptest.XML(n))
	}
	if got := c.StreamError(); got != stream.NotAuthorized {
		t.Fatalf("got stream error %q after removal, want not-authorized", got)
	}
	c3 := srv.Dial(t)
	c3.StartTLS()
	var se xmpptest.SASLError
	if err := c3.Auth("SCRAM-SHA-256", "dora", "new"); !errors.As(err, &se) {
		t.Fatalf("removed account still logs in: %v", err)
	}
}

func TestRegistrationClosed(t *testing.T) {
	srv := gatewaytest.Start(t)
	c := srv.Dial(t)
	c.StartTLS()
	if c.Features.Child("http://jabber.org/features/iq-register", "register") != nil {
		t.Fatalf("registration offered on a closed host")
	}
	c.Send("<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>x</username><password>y</password></query></iq>")
	if got := c.StreamError(); got != stream.NotAuthorized {
		t.Fatalf("got %q, want not-authorized", got)
	}
}
