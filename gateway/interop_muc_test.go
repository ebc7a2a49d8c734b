package gateway_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"junction/config"
	"junction/gateway/gatewaytest"
	"junction/internal/peer"
)

// slixMUCScript runs one multi-user chat scenario with slixmpp; see its doc
// string for what each scenario does.
const slixMUCScript = "../testdata/clients/slix_muc.py"

// slixMUCCase is one slixmpp MUC scenario and the lines it must print, in
// this order (other lines may come between).
type slixMUCCase struct {
	scenario string
	users    []string
	want     []string
}

// TestSlixmppMUC runs each XEP-0045 flow with slixmpp's MUC plugin (a
// client library we did not write) against a fresh server with the
// built-in MUC service on conference.localhost, and checks what the clients
// saw, line by line and in order.
func TestSlixmppMUC(t *testing.T) {
	py := peer.Binary(t, "/usr/bin/python3", "python3")
	peerCheckSlixmpp(t, py)
	// Reading the script makes it part of what go test's cache checks.
	if _, err := os.ReadFile(slixMUCScript); err != nil {
		t.Fatalf("read the slixmpp script: %v", err)
	}
	two := []string{"alice", "bob"}
	three := []string{"alice", "bob", "carol"}
	for _, tc := range []slixMUCCase{
		{
			scenario: "create-instant",
			users:    two,
			want: []string{
				"alice joined instant/Alice codes=110,201 affiliation=owner role=moderator",
				"bob join locked room: item-not-found",
				"alice instant room accepted",
				"bob joined instant/Bob codes=110 affiliation=none role=participant",
				"alice presence available from instant/Bob codes=- affiliation=none role=participant jid=bob@localhost/b",
				"bob got groupchat 'welcome' from instant/Alice",
			},
		},
		{
			scenario: "create-reserved",
			users:    two,
			want: []string{
				"alice joined reserved/Alice codes=110,201 affiliation=owner role=moderator",
				"service lists the locked room: no",
				"config form type=form FORM_TYPE=http://jabber.org/protocol/muc#roomconfig missing=none",
				"alice submitted the configuration",
				"config now roomname=Tea Room roomdesc=Where tea is had persistentroom=1 publicroom=1 membersonly=0 moderatedroom=0 " +
					"passwordprotectedroom=1 whois=anyone maxusers=10 changesubject=1 historylength=5",
				"room identity conference/text name=Tea Room",
				"room features muc_nonanonymous muc_open muc_passwordprotected muc_persistent muc_public muc_unmoderated",
				"room is a muc: yes",
				"roominfo FORM_TYPE=http://jabber.org/protocol/muc#roominfo description=Where tea is had occupants=1 subjectmod=1 maxhistoryfetch=5",
				"service lists reserved name=Tea Room",
			},
		},
		{
			scenario: "join-leave",
			users:    three,
			want: []string{
				"bob joined lobby/Bob codes=100,110 affiliation=none role=participant",
				"bob nick kept: Bob",
				"bob found lobby/Alice affiliation=owner role=moderator jid=alice@localhost/a",
				"alice presence available from lobby/Bob codes=- affiliation=none role=participant jid=bob@localhost/b status=hello",
				"bob presence unavailable from lobby/Bob codes=110,303 affiliation=none role=participant nick=Robert",
				"bob presence available from lobby/Robert codes=110 affiliation=none role=participant",
				"alice presence unavailable from lobby/Bob codes=303 affiliation=none role=participant jid=bob@localhost/b nick=Robert",
				"alice presence available from lobby/Robert codes=- affiliation=none role=participant jid=bob@localhost/b",
				"alice's slixmpp roster: Alice Robert",
				"carol join as Alice: conflict",
				"bob nick change to Alice: conflict",
				"bob presence unavailable from lobby/Robert codes=110 affiliation=none role=none status=bye",
				"alice presence unavailable from lobby/Robert codes=- affiliation=none role=none jid=bob@localhost/b status=bye",
				"alice's slixmpp roster: Alice",
			},
		},
		{
			scenario: "password",
			users:    two,
			want: []string{
				"bob join without password: not-authorized",
				// slixmpp's join_muc_wait sees a refusal only when the error
				// presence carries <x xmlns='http://jabber.org/protocol/muc'/>,
				// as in every error example of XEP-0045 §7.2.
				"bob slixmpp PresenceError not-authorized",
				"bob join with a wrong password: not-authorized",
				"bob joined secret/Bob codes=110 affiliation=none role=participant",
			},
		},
		{
			scenario: "members-only",
			users:    three,
			want: []string{
				"carol joined club/Carol codes=110 affiliation=none role=participant",
				"carol presence unavailable from club/Carol codes=110,322 affiliation=none role=none",
				"alice presence unavailable from club/Carol codes=322 affiliation=none role=none jid=carol@localhost/c",
				"alice got room notice codes=104",
				"bob join as a non-member: registration-required",
				"alice made bob a member",
				"members: bob@localhost",
				"bob joined club/Bob codes=110 affiliation=member role=participant",
				"bob presence unavailable from club/Bob codes=110,321 affiliation=none role=none actor=Alice",
				"alice presence unavailable from club/Bob codes=321 affiliation=none role=none jid=bob@localhost/b actor=Alice",
				"bob join after membership removed: registration-required",
			},
		},
		{
			scenario: "moderation",
			users:    []string{"alice", "bob", "carol", "dave"},
			want: []string{
				"bob joined stage/Bob codes=110 affiliation=none role=visitor",
				"bob groupchat as visitor: forbidden",
				"bob presence available from stage/Bob codes=110 affiliation=none role=participant actor=Alice",
				"alice got groupchat 'thanks' from stage/Bob",
				"bob presence available from stage/Bob codes=110 affiliation=none role=visitor reason=quiet please actor=Alice",
				"bob presence available from stage/Bob codes=110 affiliation=none role=participant actor=Alice",
				"carol joined stage/Carol codes=110 affiliation=none role=visitor",
				"bob kicking Carol as participant: forbidden",
				"carol presence unavailable from stage/Carol codes=110,307 affiliation=none role=none reason=out you go actor=Alice",
				"bob presence unavailable from stage/Carol codes=307 affiliation=none role=none reason=out you go actor=Alice",
				"dave joined stage/Dave codes=110 affiliation=none role=visitor",
				"dave presence unavailable from stage/Dave codes=110,301 affiliation=outcast role=none reason=spam actor=Alice",
				"bob presence unavailable from stage/Dave codes=301 affiliation=outcast role=none reason=spam actor=Alice",
				"dave rejoin after ban: forbidden",
				"outcasts: dave@localhost",
				"bob presence available from stage/Bob codes=110 affiliation=admin role=moderator actor=Alice",
				"bob kicking Alice as admin: not-allowed",
				"bob banning alice as admin: not-allowed",
			},
		},
		{
			scenario: "subject",
			users:    three,
			want: []string{
				"bob join subject=''",
				"bob got subject 'Tea at five' from topic/Alice",
				"bob slixmpp groupchat_subject 'Tea at five'",
				"carol join subject='Tea at five' from topic/Alice",
				"bob subject change as participant: forbidden",
				"carol got subject 'Coffee instead' from topic/Bob",
			},
		},
		{
			scenario: "history",
			users:    two,
			want: []string{
				"bob history maxstanzas=2: m3 m4 (delayed)",
				"bob history maxchars=0: none",
				"bob history seconds=2: m3 m4 (delayed)",
				"bob history since m3's stamp: m3 m4 (delayed)",
				"bob history since an hour ago: m1 m2 m3 m4 (delayed)",
				"bob history default: 20 messages d3..d22",
				"bob history historylength=3: d20 d21 d22 (delayed)",
			},
		},
		{
			scenario: "private-messages",
			users:    three,
			want: []string{
				"alice got chat 'psst' from whisper/Bob to alice@localhost/a muc#user=yes",
				"bob got chat 'what?' from whisper/Alice to bob@localhost/b",
				"bob private message to Nobody: item-not-found",
				"carol private message from outside the room: not-acceptable",
			},
		},
		{
			scenario: "invites",
			users:    three,
			want: []string{
				"bob invited by alice@localhost reason=join us to bob@localhost",
				"bob slixmpp groupchat_invite",
				"alice declined by bob@localhost reason=busy",
				"carol invitation as participant: forbidden",
			},
		},
		{
			scenario: "destroy",
			users:    two,
			want: []string{
				"alice destroyed the room",
				"bob got destroy jid=phoenix@conference.localhost reason=moving on affiliation=none role=none",
				"alice got destroy jid=phoenix@conference.localhost reason=moving on affiliation=none role=none",
				"bob disco#info of the destroyed room: item-not-found",
				"service lists the destroyed room: no",
			},
		},
		{
			scenario: "self-ping",
			users:    two,
			want: []string{
				"room advertises self-ping: yes",
				"alice self-ping: ok",
				"bob self-ping outside the room: not-acceptable",
				"bob self-ping: ok",
				"bob self-ping after leaving: not-acceptable",
			},
		},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			srv := gatewaytest.Start(t, withMUC)
			for _, u := range tc.users {
				srv.AddUser(t, u, pw)
			}
			runSlixMUC(t, py, srv, tc)
		})
	}

	// A persistent room survives a restart: two servers, one after the
	// other, on one data directory.
	t.Run("persistence", func(t *testing.T) {
		dir := t.TempDir()
		sameDir := func(c *config.Config) { c.DataDir = dir }
		ok := t.Run("before restart", func(t *testing.T) {
			srv := gatewaytest.Start(t, withMUC, sameDir)
			srv.AddUser(t, "alice", pw)
			srv.AddUser(t, "bob", pw)
			runSlixMUC(t, py, srv, slixMUCCase{scenario: "persist-create", users: []string{"alice", "bob"}, want: []string{
				"empty persistent room listed: yes",
			}})
		})
		if !ok {
			return
		}
		t.Run("after restart", func(t *testing.T) {
			srv := gatewaytest.Start(t, withMUC, sameDir)
			runSlixMUC(t, py, srv, slixMUCCase{scenario: "persist-check", users: []string{"alice", "bob"}, want: []string{
				"after restart the service lists standing name=Standing Room",
				"after restart room features muc_nonanonymous muc_open muc_passwordprotected muc_persistent muc_public muc_unmoderated",
				"bob join without password after restart: not-authorized",
				"bob joined standing/Bob codes=100,110 affiliation=member role=participant",
				"bob join subject='Always here' from standing/Alice",
				"alice joined standing/Alice codes=100,110 affiliation=owner role=moderator",
				"after restart config roomname=Standing Room persistentroom=1 passwordprotectedroom=1 whois=anyone historylength=7",
			}})
		})
	})
}

// runSlixMUC runs one scenario of the script against srv, the users'
// passwords (all pw) on its stdin, and fails t with the lines that did not
// come.
func runSlixMUC(t *testing.T, py string, srv *gatewaytest.Server, tc slixMUCCase) {
	t.Helper()
	var stdin []string
	for _, u := range tc.users {
		stdin = append(stdin, u+"="+pw)
	}
	addr := srv.Addr("c2s").String()
	port := addr[strings.LastIndex(addr, ":")+1:]
	args := []string{slixMUCScript, "--scenario", tc.scenario, "--port", port, "--muc", srv.Config.Hosts[0].MUC}
	if os.Getenv("JUNCTION_SLIX_DEBUG") != "" {
		args = append(args, "--debug") // slixmpp logs every stanza to stderr
	}
	res := peer.Run(t, 40*time.Second, strings.Join(stdin, "\n")+"\n", py, args...)
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if missing := missingLines(lines, slices.Concat(tc.want, []string{"OK"})); res.Err != nil || len(missing) > 0 {
		t.Fatalf("slixmpp scenario %s (its output is logged above):\n%s", tc.scenario, slixFailure(lines, missing, res.Err))
	}
}
