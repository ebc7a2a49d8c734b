package gateway_test

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"junction/config"
	"junction/gateway/gatewaytest"
	"junction/internal/peer"
)

// slixIMScript runs one instant-messaging scenario with slixmpp; see its
// doc string for what each scenario does.
const slixIMScript = "../testdata/clients/slix_im.py"

// TestSlixmppIM runs each RFC 6121 flow, and the XEPs clients rely on, with
// slixmpp (a client library we did not write) against a fresh server per
// scenario, and checks what the client saw, line by line and in order.
func TestSlixmppIM(t *testing.T) {
	py := peer.Binary(t, "/usr/bin/python3", "python3")
	peerCheckSlixmpp(t, py)
	// Reading the script makes it part of what go test's cache checks.
	if _, err := os.ReadFile(slixIMScript); err != nil {
		t.Fatalf("read the slixmpp script: %v", err)
	}
	const newPW = "battery staple horse correct"
	openReg := func(c *config.Config) { c.Hosts[0].Registration = "open" }
	for _, tc := range []struct {
		scenario string
		opts     []gatewaytest.Option
		users    []string
		// creds are extra "name=password" lines for the script.
		creds []string
		// want are lines the script must print, in this order (other lines may come between).
		want []string
	}{
		{
			scenario: "roster",
			users:    []string{"alice"},
			want: []string{
				"alice roster items=0",
				"alice roster versioned",
				"alice push dave@example.net subscription=none name=Dave groups=Friends,Work",
				"alice roster current",
				"alice roster item dave@example.net subscription=none name=Dave groups=Friends,Work",
				"alice push dave@example.net subscription=none name=David groups=Friends,Work",
				"alice roster version changed",
				"alice push dave@example.net subscription=remove",
				"alice roster items=0",
				"alice remove unknown: item-not-found",
			},
		},
		{
			scenario: "subscribe",
			users:    []string{"alice", "bob"},
			want: []string{
				"alice push bob@localhost subscription=none ask=subscribe",
				"bob presence subscribe from alice@localhost",
				"bob push alice@localhost subscription=from",
				"alice push bob@localhost subscription=to",
				"alice presence subscribed from bob@localhost",
				"alice presence available from bob@localhost/b",
				"bob push alice@localhost subscription=from ask=subscribe",
				"alice presence subscribe from bob@localhost",
				"alice push bob@localhost subscription=both",
				"bob push alice@localhost subscription=both",
				"bob presence subscribed from alice@localhost",
				"bob presence available from alice@localhost/a",
				"alice roster bob@localhost subscription=both",
				"bob roster alice@localhost subscription=both",
				"bob presence available from alice@localhost/a show=away status=lunch",
				"alice presence available from bob@localhost/b show=dnd status=busy",
				"alice push bob@localhost subscription=from",
				"bob presence unsubscribe from alice@localhost",
				"bob push alice@localhost subscription=to",
				"alice presence unavailable from bob@localhost/b",
				"alice push bob@localhost subscription=none",
				"bob presence unsubscribed from alice@localhost",
				"bob push alice@localhost subscription=none",
				"bob presence unavailable from alice@localhost/a",
				"alice presence available from bob@localhost/b status=marker",
				"bob no presence from alice",
				"alice roster final bob@localhost subscription=none",
				"bob roster final alice@localhost subscription=none",
				"preapproval advertised: yes",
				"bob push alice@localhost subscription=none approved=true",
				"alice presence subscribed from bob@localhost",
				"alice push bob@localhost subscription=to",
				"alice presence available from bob@localhost/b show=dnd status=busy",
				"bob push alice@localhost subscription=from",
				"bob was not asked",
			},
		},
		{
			scenario: "offline-subscribe",
			users:    []string{"alice", "carol"},
			want: []string{
				"alice push carol@localhost subscription=none ask=subscribe",
				"carol presence subscribe from alice@localhost status=it is alice",
				"carol presence subscribe from alice@localhost status=it is alice",
				"carol request status=it is alice",
				"carol push alice@localhost subscription=from",
				"alice presence subscribed from carol@localhost",
				"alice push carol@localhost subscription=to",
				"alice presence available from carol@localhost/c2",
			},
		},
		{
			scenario: "resources-priority",
			users:    []string{"alice", "bob"},
			want: []string{
				"alice/one presence available from alice@localhost/two priority=1",
				"alice/two presence available from alice@localhost/one priority=5",
				"alice/one got chat 'to bare, one is 5' from bob@localhost/b",
				"alice/two got chat 'marker 1' from bob@localhost/b",
				"alice/two did not get it",
				"alice/one got headline 'headline to bare' from bob@localhost/b",
				"alice/two got headline 'headline to bare' from bob@localhost/b",
				"alice/two presence available from alice@localhost/one priority=-1",
				"alice/two got chat 'to bare, one is -1' from bob@localhost/b",
				"alice/one got chat 'to one directly' from bob@localhost/b",
				"alice/one did not get it",
				"alice/two got chat 'to two directly' from bob@localhost/b",
				"alice/one did not get two's message",
				"alice/one got chat 'tie' from bob@localhost/b",
				"alice/two got chat 'tie' from bob@localhost/b",
				"alice/one presence unavailable from alice@localhost/two",
				"alice/one got chat 'after two left' from bob@localhost/b",
			},
		},
		{
			scenario: "offline-messages",
			users:    []string{"alice", "bob"},
			want: []string{
				"bob error from nobody@localhost: service-unavailable",
				"bob no bounce for offline alice",
				"alice offline chat 'one' from bob@localhost/b delay from=localhost",
				"alice offline chat 'two' from bob@localhost/b delay from=localhost",
				"alice offline chat 'three' from bob@localhost/b delay from=localhost",
				"alice second login messages=0",
			},
		},
		{
			scenario: "directed-presence",
			users:    []string{"alice", "bob", "carol"},
			want: []string{
				"alice roster bob@localhost subscription=both",
				"carol presence available from alice@localhost/a status=hi carol",
				"bob/b2 presence available from alice@localhost/a",
				"alice presence available from bob@localhost/b2 status=second",
				"alice presence unavailable from bob@localhost/b2",
				"alice presence unavailable from bob@localhost/b",
				"carol presence unavailable from alice@localhost/a",
			},
		},
		{
			scenario: "register",
			opts:     []gatewaytest.Option{openReg},
			creds:    []string{"dora=" + pw, "dora.new=" + newPW},
			want: []string{
				"register form fields: password username",
				"register ok",
				"dora logged in as dora@localhost/r",
				"password changed",
				"new password works",
				"old password refused",
				"registration cancelled",
				"dora stream error not-authorized",
				"removed account refused",
			},
		},
		{
			scenario: "carbons",
			users:    []string{"alice", "bob"},
			want: []string{
				"carbons enabled on one and two",
				"alice/one got chat 'bob to one' from bob@localhost/b",
				"alice/two carbon received from=alice@localhost inner from=bob@localhost/b to=alice@localhost/one body='bob to one'",
				"bob got chat 'one to bob' from alice@localhost/one",
				"alice/two carbon sent from=alice@localhost inner from=alice@localhost/one to=bob@localhost body='one to bob'",
				"alice/one got no copy of its own message",
				"alice/two got no copy of the private message",
			},
		},
		{
			scenario: "blocking",
			users:    []string{"alice", "bob"},
			want: []string{
				"alice blocklist bob@localhost",
				"bob error: service-unavailable",
				"alice error: not-acceptable blocked=yes",
				"nothing delivered while blocked",
				"alice blocklist items=0",
				"alice got chat 'unblocked' from bob@localhost/b",
				"bob got chat 'hello again' from alice@localhost/a",
			},
		},
		{
			scenario: "vcard",
			users:    []string{"alice", "bob"},
			want: []string{
				"alice published her vCard",
				"bob sees FN=Alice Liddell NICKNAME=alice",
				"bob setting alice's vCard: forbidden",
			},
		},
		{
			scenario: "private",
			users:    []string{"alice", "bob"},
			want: []string{
				"alice empty note title=''",
				"alice stored a note",
				"alice retrieved title=groceries text=eggs, milk",
				"bob reading alice's storage: forbidden",
			},
		},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			srv := gatewaytest.Start(t, tc.opts...)
			stdin := slices.Clone(tc.creds)
			for _, u := range tc.users {
				srv.AddUser(t, u, pw)
				stdin = append(stdin, u+"="+pw)
			}
			addr := srv.Addr("c2s").String()
			port := addr[strings.LastIndex(addr, ":")+1:]
			args := []string{slixIMScript, "--scenario", tc.scenario, "--port", port}
			if os.Getenv("JUNCTION_SLIX_DEBUG") != "" {
				args = append(args, "--debug") // slixmpp logs every stanza to stderr
			}
			res := peer.Run(t, 45*time.Second, strings.Join(stdin, "\n")+"\n", py, args...)
			lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
			missing := missingLines(lines, slices.Concat(tc.want, []string{"OK"}))
			var nofeature []string
			for _, l := range lines {
				if f, ok := strings.CutPrefix(l, "NOFEATURE "); ok {
					nofeature = append(nofeature, f)
				}
			}
			switch {
			case res.Err != nil || len(missing) > 0:
				// Every scenario's feature is implemented: a missing one is a
				// regression, never a reason to skip.
				t.Fatalf("slixmpp scenario %s (its output is logged above; features missing from disco#info: %v):\n%s", tc.scenario, nofeature, slixFailure(lines, missing, res.Err))
			case len(nofeature) > 0:
				t.Errorf("the scenario passes, but disco#info of %s does not list %s", srv.Host, strings.Join(nofeature, ", "))
			}
		})
	}
}

// missingLines returns the lines of want that got lacks, each looked for
// after the last one found, so that got holds the rest in want's order.
func missingLines(got, want []string) []string {
	var missing []string
	i := 0
	for _, w := range want {
		j := slices.Index(got[i:], w)
		if j < 0 {
			missing = append(missing, w)
			continue
		}
		i += j + 1
	}
	return missing
}

// slixFailure says why a scenario failed: the script's FAIL line, the expected
// line that did not come, or the process error.
func slixFailure(lines, missing []string, err error) string {
	var why []string
	for _, m := range missing {
		why = append(why, "got no line "+strconv.Quote(m))
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "MISSED ") || strings.HasPrefix(l, "FAIL ") {
			why = append(why, l)
		}
	}
	if len(why) == 0 && err != nil {
		why = append(why, err.Error())
	}
	return strings.Join(why, "\n")
}

func TestMissingLines(t *testing.T) {
	got := []string{"a", "x", "b", "c"}
	for _, tc := range []struct {
		name string
		want []string
		miss []string
	}{
		{"all in order", []string{"a", "b", "c"}, nil},
		{"none wanted", nil, nil},
		{"out of order", []string{"b", "a"}, []string{"a"}},
		{"absent", []string{"a", "d", "c"}, []string{"d"}},
		{"used once", []string{"a", "a"}, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m := missingLines(got, tc.want); !slices.Equal(m, tc.miss) {
				t.Fatalf("got missing %q, want %q", m, tc.miss)
			}
		})
	}
}
