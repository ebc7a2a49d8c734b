package form

import (
	"errors"
	"reflect"
	"testing"

	"junction/xmpp/xmltok"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		form Form
	}{
		{"empty submit", Form{Type: TypeSubmit}},
		{"cancel", Form{Type: TypeCancel}},
		{"config form", Form{
			Type:         TypeForm,
			Title:        "Configuration for room",
			Instructions: []string{"Fill in the form", "Then submit it"},
			Fields: []Field{
				{Var: FormTypeVar, Type: Hidden, Values: []string{"http://jabber.org/protocol/muc#roomconfig"}},
				{Var: "muc#roomconfig_roomname", Type: TextSingle, Label: "Name", Values: []string{"A <&> room"}},
				{Var: "muc#roomconfig_persistentroom", Type: Boolean, Values: []string{"1"}, Required: true, Desc: "Survives restarts"},
				{Var: "muc#roomconfig_whois", Type: ListSingle, Values: []string{"moderators"},
					Options: []Option{{Label: "Moderators only", Value: "moderators"}, {Value: "anyone"}}},
				{Var: "muc#roomconfig_roomadmins", Type: JIDMulti, Values: []string{"a@example.org", "b@example.org"}},
				{Type: Fixed, Values: []string{"Just text"}},
			},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.form.Node().AppendXML(nil, "jabber:client")
			n, err := xmltok.Parse(raw, "jabber:client")
			if err != nil {
				t.Fatalf("parse %s: %v", raw, err)
			}
			got, err := Parse(n)
			if err != nil {
				t.Fatalf("Parse(%s): got %v, want nil", raw, err)
			}
			if !reflect.DeepEqual(*got, tc.form) {
				t.Errorf("got %+v, want %+v", *got, tc.form)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range []struct{ name, raw string }{
		{"wrong element", `<query xmlns="jabber:x:data" type="submit"/>`},
		{"wrong namespace", `<x xmlns="jabber:x:oob" type="submit"/>`},
		{"no type", `<x xmlns="jabber:x:data"/>`},
		{"unknown type", `<x xmlns="jabber:x:data" type="bogus"/>`},
		{"field without var", `<x xmlns="jabber:x:data" type="submit"><field><value>1</value></field></x>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := xmltok.Parse([]byte(tc.raw), "jabber:client")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(n); !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want %v", err, ErrInvalid)
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	n, err := xmltok.Parse([]byte(`<x xmlns="jabber:x:data" type="submit">
		<field var="FORM_TYPE"><value>urn:example</value></field>
		<field var="multi"><value>a</value><value>b</value></field>
		<field var="empty"/></x>`), "jabber:client")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		v      string
		want   string
		wantOK bool
	}{
		{FormTypeVar, "urn:example", true},
		{"multi", "a", true},
		{"empty", "", true},
		{"absent", "", false},
	} {
		got, ok := f.Value(tc.v)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("Value(%q): got %q, %v, want %q, %v", tc.v, got, ok, tc.want, tc.wantOK)
		}
	}
	if got := f.FormType(); got != "urn:example" {
		t.Errorf("FormType: got %q, want urn:example", got)
	}
}

func TestParseBool(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"1", true, false},
		{"true", true, false},
		{"0", false, false},
		{"false", false, false},
		{"", false, true},
		{"yes", false, true},
		{"TRUE", false, true},
	} {
		got, err := ParseBool(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseBool(%q): got %v, %v, want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	if FormatBool(true) != "1" || FormatBool(false) != "0" {
		t.Errorf("FormatBool: got %q/%q, want 1/0", FormatBool(true), FormatBool(false))
	}
}
