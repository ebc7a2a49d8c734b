package registrytest

import (
	"errors"
	"testing"

	"junction/registry"
)

const vcard = `<vCard xmlns="vcard-temp"><FN>Alice &amp; Co</FN><NICKNAME>ålice</NICKNAME></vCard>`

func testAccountData(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	mustCreate(t, s, account("localhost", "bob"))
	const private = "private:storage:bookmarks"
	for _, tc := range []struct {
		name            string
		username, key   string
		value           string // "" deletes
		wantVCard       string // alice's vcard afterwards, "" for none
		wantPrivate     string // alice's private:storage:bookmarks afterwards
		wantBobVCard    string
		wantErrNotFound bool // the Set itself
	}{
		{"nothing yet", "alice", "other", "", "", "", "", false},
		{"set vcard", "alice", "vcard", vcard, vcard, "", "", false},
		{"set private", "alice", private, "<storage xmlns='storage:bookmarks'/>", vcard, "<storage xmlns='storage:bookmarks'/>", "", false},
		{"other account", "bob", "vcard", "<vCard xmlns='vcard-temp'/>", vcard, "<storage xmlns='storage:bookmarks'/>", "<vCard xmlns='vcard-temp'/>", false},
		{"replace", "alice", "vcard", "<vCard xmlns='vcard-temp'><FN>A</FN></vCard>", "<vCard xmlns='vcard-temp'><FN>A</FN></vCard>", "<storage xmlns='storage:bookmarks'/>", "<vCard xmlns='vcard-temp'/>", false},
		{"delete", "alice", "vcard", "", "", "<storage xmlns='storage:bookmarks'/>", "<vCard xmlns='vcard-temp'/>", false},
		{"delete again", "alice", "vcard", "", "", "<storage xmlns='storage:bookmarks'/>", "<vCard xmlns='vcard-temp'/>", false},
		{"unknown account", "ghost", "vcard", vcard, "", "<storage xmlns='storage:bookmarks'/>", "<vCard xmlns='vcard-temp'/>", true},
		{"unknown account, delete", "ghost", "vcard", "", "", "<storage xmlns='storage:bookmarks'/>", "<vCard xmlns='vcard-temp'/>", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.SetAccountData(t.Context(), "localhost", tc.username, tc.key, tc.value)
			if tc.wantErrNotFound && !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("SetAccountData: got %v, want %v", err, registry.ErrNotFound)
			} else if !tc.wantErrNotFound && err != nil {
				t.Errorf("SetAccountData: got %v, want nil", err)
			}
			for _, c := range []struct{ username, key, want string }{
				{"alice", "vcard", tc.wantVCard},
				{"alice", private, tc.wantPrivate},
				{"bob", "vcard", tc.wantBobVCard},
				{"alice", "VCARD", ""},
				{"ghost", "vcard", ""},
			} {
				got, err := s.AccountData(t.Context(), "localhost", c.username, c.key)
				switch {
				case c.want == "" && !errors.Is(err, registry.ErrNotFound):
					t.Errorf("AccountData(%s, %q): got %q, %v, want %v", c.username, c.key, got, err, registry.ErrNotFound)
				case c.want != "" && (err != nil || got != c.want):
					t.Errorf("AccountData(%s, %q): got %q, %v, want %q", c.username, c.key, got, err, c.want)
				}
			}
		})
	}
}
