package registrytest

import (
	"errors"
	"slices"
	"testing"

	"junction/registry"
)

func testBlockList(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	mustCreate(t, s, account("localhost", "bob"))
	if err := s.Block(t.Context(), "localhost", "bob", []string{"bobs-enemy@example.org"}); err != nil {
		t.Fatalf("Block(bob): got %v, want nil", err)
	}
	for _, tc := range []struct {
		name    string
		block   bool // Block, else Unblock
		jids    []string
		want    []string // alice's list afterwards
		wantErr error
	}{
		{"block nothing", true, nil, nil, nil},
		{"block", true, []string{"spam@example.org", "example.net", "Spam@example.org"}, []string{"Spam@example.org", "example.net", "spam@example.org"}, nil},
		{"block duplicates", true, []string{"spam@example.org", "a@example.org/res", "a@example.org/res"}, []string{"Spam@example.org", "a@example.org/res", "example.net", "spam@example.org"}, nil},
		{"unblock some", false, []string{"example.net", "never-blocked@example.org", "example.net"}, []string{"Spam@example.org", "a@example.org/res", "spam@example.org"}, nil},
		{"unblock all", false, nil, nil, nil},
		{"unblock all when empty", false, []string{}, nil, nil},
		{"block again", true, []string{"spam@example.org"}, []string{"spam@example.org"}, nil},
		{"unblock everything, empty slice", false, []string{}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.block {
				err = s.Block(t.Context(), "localhost", "alice", tc.jids)
			} else {
				err = s.Unblock(t.Context(), "localhost", "alice", tc.jids)
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			got, err := s.BlockList(t.Context(), "localhost", "alice")
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("BlockList: got %q, %v, want %q", got, err, tc.want)
			}
		})
	}
	if got, err := s.BlockList(t.Context(), "localhost", "bob"); err != nil || !slices.Equal(got, []string{"bobs-enemy@example.org"}) {
		t.Errorf("BlockList(bob): got %q, %v, want [bobs-enemy@example.org]", got, err)
	}
}

func testBlockListNotFound(t *testing.T, s registry.Store) {
	mustCreate(t, s, account("localhost", "alice"))
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Block", func() error { return s.Block(t.Context(), "localhost", "ghost", []string{"spam@example.org"}) }},
		{"Block nothing", func() error { return s.Block(t.Context(), "localhost", "ghost", nil) }},
		{"Unblock", func() error { return s.Unblock(t.Context(), "localhost", "ghost", []string{"spam@example.org"}) }},
		{"Unblock all", func() error { return s.Unblock(t.Context(), "localhost", "ghost", nil) }},
		{"Block unknown host", func() error { return s.Block(t.Context(), "example.org", "alice", []string{"spam@example.org"}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("got %v, want %v", err, registry.ErrNotFound)
			}
		})
	}
	if got, err := s.BlockList(t.Context(), "localhost", "ghost"); err != nil || len(got) != 0 {
		t.Errorf("BlockList(ghost): got %q, %v, want none, nil", got, err)
	}
}
