package registrytest

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"junction/registry"
)

const service = "conference.localhost"

// room returns a complete room with every field set, recognisable by name.
func room(name string) registry.Room {
	return registry.Room{
		Service: service,
		Name:    name,
		Config: registry.RoomConfig{
			Title:         "Room " + name,
			Description:   "About " + name + " & <more>",
			Public:        true,
			MembersOnly:   true,
			Moderated:     true,
			Password:      "secret-" + name,
			WhoIs:         "anyone",
			MaxUsers:      42,
			ChangeSubject: true,
			AllowInvites:  true,
			HistoryLength: 25,
		},
		Subject:   "Topic of " + name,
		SubjectBy: "crone",
		Affiliations: []registry.RoomAffiliation{
			{JID: "admin@localhost", Affiliation: registry.RoomAdmin},
			{JID: "evil.example", Affiliation: registry.RoomOutcast, Reason: "spam server"},
			{JID: "member@localhost", Affiliation: registry.RoomMember},
			{JID: "owner@localhost", Affiliation: registry.RoomOwner, Reason: "founder"},
		},
	}
}

func mustPutRoom(t *testing.T, s registry.Store, r registry.Room) {
	t.Helper()
	if err := s.PutRoom(t.Context(), r); err != nil {
		t.Fatalf("PutRoom(%s@%s): got %v, want nil", r.Name, r.Service, err)
	}
}

func checkRoom(t *testing.T, s registry.Store, want registry.Room) {
	t.Helper()
	got, err := s.Room(t.Context(), want.Service, want.Name)
	if err != nil {
		t.Fatalf("Room(%s@%s): got %v, want nil", want.Name, want.Service, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Room(%s@%s): got %+v, want %+v", want.Name, want.Service, got, want)
	}
}

func testRoomRoundTrip(t *testing.T, s registry.Store) {
	bare := registry.Room{Service: service, Name: "bare"}
	wantBare := bare
	wantBare.Config.WhoIs = "moderators" // "" is stored as moderators
	for _, tc := range []struct {
		name string
		put  registry.Room
		want registry.Room
	}{
		{"full", room("coven"), room("coven")},
		{"zero config", bare, wantBare},
		{"unicode", room("ünïcödé"), room("ünïcödé")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustPutRoom(t, s, tc.put)
			checkRoom(t, s, tc.want)
		})
	}
}

func testRoomReplace(t *testing.T, s registry.Store) {
	mustPutRoom(t, s, room("coven"))
	mustPutRoom(t, s, room("other"))
	changed := room("coven")
	changed.Config.Title = "Renamed"
	changed.Config.Password = ""
	changed.Config.Public = false
	changed.Subject, changed.SubjectBy = "", ""
	changed.Affiliations = []registry.RoomAffiliation{{JID: "new-owner@localhost", Affiliation: registry.RoomOwner}}
	mustPutRoom(t, s, changed)
	checkRoom(t, s, changed)
	checkRoom(t, s, room("other"))

	changed.Affiliations = nil
	mustPutRoom(t, s, changed)
	checkRoom(t, s, changed)
}

func testRoomsSorted(t *testing.T, s registry.Store) {
	for _, n := range []string{"zeta", "alpha", "mid", "alpha2"} {
		mustPutRoom(t, s, room(n))
	}
	other := room("alpha")
	other.Service = "muc.example.org"
	other.Affiliations = other.Affiliations[:1]
	mustPutRoom(t, s, other)
	for _, tc := range []struct {
		service string
		want    []string
	}{
		{service, []string{"alpha", "alpha2", "mid", "zeta"}},
		{"muc.example.org", []string{"alpha"}},
		{"unknown.example", nil},
	} {
		t.Run(tc.service, func(t *testing.T) {
			rooms, err := s.Rooms(t.Context(), tc.service)
			if err != nil {
				t.Fatalf("Rooms(%q): got %v, want nil", tc.service, err)
			}
			var got []string
			for _, r := range rooms {
				got = append(got, r.Name)
				want := room(r.Name)
				if r.Service != service {
					want = other
				}
				if !reflect.DeepEqual(r, want) {
					t.Errorf("Rooms(%q): got %+v, want %+v", tc.service, r, want)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Rooms(%q): got %q, want %q", tc.service, got, tc.want)
			}
		})
	}
}

func testRoomDelete(t *testing.T, s registry.Store) {
	mustPutRoom(t, s, room("coven"))
	mustPutRoom(t, s, room("other"))
	if err := s.DeleteRoom(t.Context(), service, "coven"); err != nil {
		t.Fatalf("DeleteRoom: got %v, want nil", err)
	}
	if _, err := s.Room(t.Context(), service, "coven"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Room after delete: got %v, want %v", err, registry.ErrNotFound)
	}
	if err := s.DeleteRoom(t.Context(), service, "coven"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("second DeleteRoom: got %v, want %v", err, registry.ErrNotFound)
	}
	checkRoom(t, s, room("other"))
	// Recreated under the old name, the room has none of the old affiliations.
	fresh := registry.Room{Service: service, Name: "coven", Config: registry.RoomConfig{WhoIs: "moderators"}}
	mustPutRoom(t, s, fresh)
	checkRoom(t, s, fresh)
}

func testRoomNotFound(t *testing.T, s registry.Store) {
	mustPutRoom(t, s, room("coven"))
	for _, tc := range []struct{ name, service, room string }{
		{"unknown room", service, "nope"},
		{"unknown service", "muc.example.org", "coven"},
		{"case differs", service, "Coven"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Room(t.Context(), tc.service, tc.room); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("Room: got %v, want %v", err, registry.ErrNotFound)
			}
			if err := s.DeleteRoom(t.Context(), tc.service, tc.room); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("DeleteRoom: got %v, want %v", err, registry.ErrNotFound)
			}
		})
	}
}

func testRoomInvalid(t *testing.T, s registry.Store) {
	mustPutRoom(t, s, room("coven"))
	for _, tc := range []struct {
		name   string
		change func(r *registry.Room)
		want   string
	}{
		{"unknown affiliation", func(r *registry.Room) {
			r.Affiliations = append(r.Affiliations, registry.RoomAffiliation{JID: "x@localhost", Affiliation: "none"})
		}, "affiliation"},
		{"unknown whois", func(r *registry.Room) { r.Config.WhoIs = "everybody" }, "whois"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := room("coven")
			r.Config.Title = "must not be stored"
			tc.change(&r)
			err := s.PutRoom(t.Context(), r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("PutRoom: got %v, want an error naming the %s", err, tc.want)
			}
			checkRoom(t, s, room("coven"))
		})
	}
}

func testRoomNoAliasing(t *testing.T, s registry.Store) {
	r := room("coven")
	mustPutRoom(t, s, r)
	r.Affiliations[0].Affiliation = registry.RoomOutcast // the caller reuses its slice
	got, err := s.Room(t.Context(), service, "coven")
	if err != nil {
		t.Fatal(err)
	}
	got.Affiliations[1].JID = "scribbled" // the caller scribbles on a result
	checkRoom(t, s, room("coven"))
}

func testRoomsConcurrent(t *testing.T, s registry.Store) {
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*2)
	for w := range workers {
		wg.Go(func() {
			r := room("coven")
			r.Config.MaxUsers = w
			errs <- s.PutRoom(t.Context(), r)
			_, err := s.Rooms(t.Context(), service)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent PutRoom/Rooms: got %v, want nil", err)
		}
	}
	got, err := s.Room(t.Context(), service, "coven")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Affiliations) != len(room("coven").Affiliations) {
		t.Errorf("after concurrent PutRoom: got %d affiliations, want %d (replaced, never merged)", len(got.Affiliations), len(room("coven").Affiliations))
	}
}
