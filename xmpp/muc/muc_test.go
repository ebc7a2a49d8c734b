package muc

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"junction/xmpp/jid"
	"junction/xmpp/xmltok"
)

func parse(t *testing.T, raw string) *xmltok.Node {
	t.Helper()
	n, err := xmltok.Parse([]byte(raw), "jabber:client")
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return n
}

func reparse(t *testing.T, n *xmltok.Node) *xmltok.Node {
	t.Helper()
	return parse(t, string(n.AppendXML(nil, "jabber:client")))
}

func TestRanks(t *testing.T) {
	roles := []Role{RoleNone, RoleVisitor, RoleParticipant, RoleModerator}
	for i, r := range roles {
		if got := r.Rank(); got != i {
			t.Errorf("%s.Rank(): got %d, want %d", r, got, i)
		}
		if got, ok := ParseRole(string(r)); got != r || !ok {
			t.Errorf("ParseRole(%q): got %q, %v, want %q, true", r, got, ok, r)
		}
	}
	affs := []Affiliation{AffiliationOutcast, AffiliationNone, AffiliationMember, AffiliationAdmin, AffiliationOwner}
	for i, a := range affs {
		if got := a.Rank(); got != i {
			t.Errorf("%s.Rank(): got %d, want %d", a, got, i)
		}
		if got, ok := ParseAffiliation(string(a)); got != a || !ok {
			t.Errorf("ParseAffiliation(%q): got %q, %v, want %q, true", a, got, ok, a)
		}
	}
	for _, s := range []string{"", "Owner", "god"} {
		if _, ok := ParseRole(s); ok {
			t.Errorf("ParseRole(%q): got ok, want not a role", s)
		}
		if _, ok := ParseAffiliation(s); ok {
			t.Errorf("ParseAffiliation(%q): got ok, want not an affiliation", s)
		}
	}
}

func TestItemRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		item Item
	}{
		{"empty", Item{}},
		{"presence", Item{Affiliation: AffiliationOwner, Role: RoleModerator, JID: jid.MustParse("crone@shakespeare.lit/desktop")}},
		{"kick", Item{Role: RoleNone, Nick: "pistol", Reason: "Avaunt, you cullion!", Actor: "thirdwitch"}},
		{"ban", Item{Affiliation: AffiliationOutcast, JID: jid.MustParse("earlofcambridge@shakespeare.lit"), Reason: "Treason"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseItem(reparse(t, tc.item.Node(NSAdmin)))
			if err != nil {
				t.Fatalf("ParseItem: got %v, want nil", err)
			}
			if got != tc.item {
				t.Errorf("got %+v, want %+v", got, tc.item)
			}
		})
	}
}

func TestParseItemInvalid(t *testing.T) {
	for _, raw := range []string{
		`<item xmlns="http://jabber.org/protocol/muc#admin" role="king"/>`,
		`<item xmlns="http://jabber.org/protocol/muc#admin" affiliation="friend"/>`,
		`<item xmlns="http://jabber.org/protocol/muc#admin" jid="@bad"/>`,
	} {
		if _, err := ParseItem(parse(t, raw)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseItem(%s): got %v, want %v", raw, err, ErrInvalid)
		}
	}
}

func TestUserRoundTrip(t *testing.T) {
	u := &User{
		Items:    []Item{{Affiliation: AffiliationNone, Role: RoleNone}},
		Statuses: []Status{StatusSelf, StatusKicked},
		Destroy:  &Destroy{JID: jid.MustParse("coven@chat.shakespeare.lit"), Reason: "Macbeth doth come.", Password: "cauldron"},
		Invites:  []Invite{{From: jid.MustParse("crone@shakespeare.lit/desktop"), Reason: "Hey"}},
		Declines: []Invite{{To: jid.MustParse("crone@shakespeare.lit"), Reason: "Busy"}},
		Password: "cauldronburn",
	}
	got, err := ParseUser(reparse(t, u.Node()))
	if err != nil {
		t.Fatalf("ParseUser: got %v, want nil", err)
	}
	if !reflect.DeepEqual(got, u) {
		t.Errorf("got %+v, want %+v", got, u)
	}
}

func TestParseJoin(t *testing.T) {
	since := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		raw     string
		want    Join
		wantErr bool
	}{
		{"bare", `<x xmlns="http://jabber.org/protocol/muc"/>`, Join{History: NoLimit}, false},
		{"password", `<x xmlns="http://jabber.org/protocol/muc"><password>cauldronburn</password></x>`,
			Join{Password: "cauldronburn", History: NoLimit}, false},
		{"no history", `<x xmlns="http://jabber.org/protocol/muc"><history maxchars="0"/></x>`,
			Join{History: History{MaxChars: 0, MaxStanzas: -1, Seconds: -1}}, false},
		{"all limits", `<x xmlns="http://jabber.org/protocol/muc"><history maxchars="65000" maxstanzas="20" seconds="180" since="1970-01-01T00:00:00Z"/></x>`,
			Join{History: History{MaxChars: 65000, MaxStanzas: 20, Seconds: 180, Since: since}}, false},
		{"negative is absent", `<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="-5"/></x>`, Join{History: NoLimit}, false},
		{"fractional since", `<x xmlns="http://jabber.org/protocol/muc"><history since="1970-01-01T00:00:00.000Z"/></x>`,
			Join{History: History{MaxChars: -1, MaxStanzas: -1, Seconds: -1, Since: since}}, false},
		{"bad number", `<x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="many"/></x>`, Join{}, true},
		{"bad since", `<x xmlns="http://jabber.org/protocol/muc"><history since="yesterday"/></x>`, Join{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseJoin(parse(t, tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("got %v, want %v", err, ErrInvalid)
				}
				return
			}
			if !got.History.Since.Equal(tc.want.History.Since) {
				t.Errorf("since: got %v, want %v", got.History.Since, tc.want.History.Since)
			}
			got.History.Since, tc.want.History.Since = time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			// Join.Node round-trips what was read.
			again, err := ParseJoin(reparse(t, got.Node()))
			if err != nil || again != got {
				t.Errorf("round trip: got %+v, %v, want %+v", again, err, got)
			}
		})
	}
}

func TestDelay(t *testing.T) {
	n := Delay(jid.MustParse("coven@chat.shakespeare.lit"), time.Date(2002, 10, 13, 23, 58, 37, 500, time.FixedZone("x", 3600)))
	want := `<delay xmlns="urn:xmpp:delay" from="coven@chat.shakespeare.lit" stamp="2002-10-13T22:58:37Z"/>`
	if got := n.String(); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
