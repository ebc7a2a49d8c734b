#!/usr/bin/python3
"""Drive Junction's instant messaging with slixmpp, a library we did not write.

One scenario per run (--scenario); each prints one line per observed fact
and "OK" at the end, and exits non-zero on the first failure or timeout
(every wait is bounded). A missed observation that later steps do not
depend on prints "MISSED ..." and the run goes on, then fails at the end. Accounts and passwords come on stdin, one
"name=password" per line, so passwords never appear in a process list.

Scenarios (RFC 6121 and the XEPs clients expect):
  roster              get, add with name and groups, push, versioned get, rename, remove
  subscribe           both directions, presence both ways, unsubscribe/unsubscribed
  offline-subscribe   a request to an offline contact, re-sent at each login until answered
  resources-priority  two resources of one account: priorities, ties, full JIDs, presence
  offline-messages    XEP-0160 storage with XEP-0203 delay, delivered once, headline dropped
  directed-presence   unavailable to subscribers and directed-presence recipients on a dropped TCP connection
  register            XEP-0077: register, log in, change password, cancel
  carbons             XEP-0280 received and sent copies, private messages not copied
  blocking            XEP-0191 block, errors both ways, unblock
  vcard               XEP-0054 publish and fetch
  private             XEP-0049 store and retrieve

Scenarios that need a XEP first ask the server's disco#info and print
"NOFEATURE <var>" when the server domain does not list it (the run goes on,
so the output shows what does happen).
"""
import argparse
import asyncio
import datetime
import logging
import ssl
import sys

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import ElementBase
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

WAIT = 5.0  # seconds any single expected event may take
NS_CLIENT = 'jabber:client'
NS_ROSTER = 'jabber:iq:roster'
NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'

DOMAIN = 'localhost'
PORT = 0
CREDS = {}


class Fail(Exception):
    """A scenario step did not happen as expected."""


def out(line):
    print(line, flush=True)
    logging.debug("OUT %s", line)


def check(cond, what):
    if not cond:
        raise Fail(what)


MISSED = []


async def soft(step):
    """Awaits an observation the rest of the scenario does not depend on:
    if it fails, "MISSED ..." is printed and the scenario goes on (and
    fails at the end), so one gap does not hide the steps after it."""
    try:
        return await step
    except Fail as e:
        out(f"MISSED {e}")
        MISSED.append(e)


class Inbox:
    """Everything a client received, consumed by expect() in any order."""

    def __init__(self, name):
        self.name = name
        self.items = []
        self.changed = asyncio.Event()

    def put(self, kind, st):
        self.items.append((kind, st))
        self.changed.set()

    def take(self, pred):
        for i, (kind, st) in enumerate(self.items):
            if pred(kind, st):
                del self.items[i]
                return st
        return None

    async def expect(self, what, pred, timeout=WAIT):
        async def find():
            while True:
                st = self.take(pred)
                if st is not None:
                    return st
                self.changed.clear()
                await self.changed.wait()
        try:
            return await asyncio.wait_for(find(), timeout)
        except asyncio.TimeoutError:
            raise Fail(f"{self.name}: no {what} within {timeout}s; unconsumed: {self.summary()}") from None

    def none(self, what, pred):
        st = self.take(pred)
        if st is not None:
            raise Fail(f"{self.name}: unexpected {what}: {st}")

    def summary(self):
        return [f"{k}:{st}" for k, st in self.items]


# Predicates over (kind, stanza), on the raw XML so slixmpp's own
# interpretation (e.g. presence['type'] returning the show value) stays out.

def attr(st, name):
    return st.xml.get(name, '')


def is_message(body=None, frm=None, typ=None):
    def pred(kind, st):
        if kind != 'message':
            return False
        if body is not None and st['body'] != body:
            return False
        if frm is not None and attr(st, 'from') != frm:
            return False
        if typ is not None and attr(st, 'type') != typ:
            return False
        return True
    return pred


def is_presence(frm, typ='', show=None, status=None):
    def pred(kind, st):
        if kind != 'presence' or attr(st, 'from') != frm or attr(st, 'type') != typ:
            return False
        if show is not None and (st.xml.findtext(f'{{{NS_CLIENT}}}show') or '') != show:
            return False
        if status is not None and (st.xml.findtext(f'{{{NS_CLIENT}}}status') or '') != status:
            return False
        return True
    return pred


def is_push(contact):
    def pred(kind, st):
        return kind == 'push' and push_item(st)[0] == contact
    return pred


def push_item(iq):
    q = iq.xml.find(f'{{{NS_ROSTER}}}query')
    it = q.find(f'{{{NS_ROSTER}}}item') if q is not None else None
    if it is None:
        return None, ''
    return it.get('jid'), describe_item(it)


def describe_item(it):
    s = f"{it.get('jid')} subscription={it.get('subscription', 'none')}"
    if it.get('ask'):
        s += f" ask={it.get('ask')}"
    if it.get('approved'):
        s += f" approved={it.get('approved')}"
    if it.get('name'):
        s += f" name={it.get('name')}"
    groups = sorted(g.text or '' for g in it.findall(f'{{{NS_ROSTER}}}group'))
    if groups:
        s += f" groups={','.join(groups)}"
    return s


def error_condition(st):
    err = st.xml.find(f'{{{NS_CLIENT}}}error')
    if err is None:
        return ''
    for c in err:
        if c.tag.startswith(f'{{{NS_STANZAS}}}') and not c.tag.endswith('}text'):
            return c.tag.split('}', 1)[1]
    return ''


class Client:
    """One slixmpp ClientXMPP, its inbox and its readiness."""

    def __init__(self, name, user, resource, password=None, plugins=(), register=None):
        self.name = name
        self.user = user
        self.jid = f"{user}@{DOMAIN}/{resource}"
        self.bare = f"{user}@{DOMAIN}"
        pw = password if password is not None else CREDS[user]
        x = slixmpp.ClientXMPP(self.jid, pw, sasl_mech='SCRAM-SHA-256')
        x.ssl_context.check_hostname = False
        x.ssl_context.verify_mode = ssl.CERT_NONE
        for p in ('xep_0030', 'xep_0199', 'xep_0203') + tuple(plugins):
            x.register_plugin(p)
        # Subscriptions are answered by the scenario, not by slixmpp's defaults
        # (which approve every request and subscribe back).
        x.auto_authorize = None
        x.auto_subscribe = False
        self.x = x
        self.inbox = Inbox(name)
        loop = asyncio.get_event_loop()
        self.ready = loop.create_future()
        self.gone = loop.create_future()
        x.register_handler(Callback('junction all messages', MatchXPath(f'{{{NS_CLIENT}}}message'),
                                    lambda st: self.inbox.put('message', st)))
        x.add_event_handler('presence', lambda st: self.inbox.put('presence', st))
        x.add_event_handler('roster_update', self._on_roster)
        x.add_event_handler('stream_error', lambda st: self.inbox.put('stream_error', st))
        x.add_event_handler('session_start', self._on_session)
        x.add_event_handler('failed_auth', self._on_failed_auth)
        x.add_event_handler('disconnected', self._on_disconnected)
        if register is not None:
            x.add_event_handler('register', register)
            # slixmpp 1.8.3 holds back every iq before the session starts
            # except bind and session, so the xep_0077 plugin's own form
            # request would never leave (later slixmpp lets jabber:iq:register
            # through too). Lift the hold until the session starts.
            x._always_send_everything = True

    def _on_roster(self, iq):
        if iq['type'] == 'set':
            self.inbox.put('push', iq)

    def _on_session(self, _):
        self.x._always_send_everything = False
        if not self.ready.done():
            self.ready.set_result(None)

    def _on_failed_auth(self, st):
        if not self.ready.done():
            self.ready.set_exception(Fail(f"{self.name}: authentication failed: {st['condition']}"))

    def _on_disconnected(self, _):
        if not self.gone.done():
            self.gone.set_result(None)
        if not self.ready.done():
            self.ready.set_exception(Fail(f"{self.name}: disconnected before the session started"))

    async def connect(self):
        self.x.connect(address=('127.0.0.1', PORT), force_starttls=True)
        try:
            await asyncio.wait_for(asyncio.shield(self.ready), WAIT)
        except asyncio.TimeoutError:
            raise Fail(f"{self.name}: no session within {WAIT}s") from None

    async def login(self, roster=True, priority=None, show=None, status=None):
        """Connect, fetch the roster like a real client, send initial
        presence and wait (with a ping) until the server has processed it."""
        await self.connect()
        if roster:
            await self.roster()
        self.x.send_presence(ppriority=priority, pshow=show, pstatus=status)
        await self.ping()
        return self

    async def roster(self):
        return await self.x.get_roster(timeout=WAIT)

    async def full_roster(self):
        """The server's whole roster as item descriptions (a get without a
        cached version, which would otherwise yield an empty result)."""
        self.x.client_roster.version = ''
        iq = await self.roster()
        q = iq.xml.find(f'{{{NS_ROSTER}}}query')
        return [describe_item(i) for i in q.findall(f'{{{NS_ROSTER}}}item')]

    async def ping(self):
        """A round trip to the server: everything the server queued for us
        before answering has arrived when this returns."""
        await self.x['xep_0199'].ping(jid=DOMAIN, timeout=WAIT)

    async def disconnect(self):
        self.x.disconnect(wait=1.0)
        try:
            await asyncio.wait_for(asyncio.shield(self.gone), WAIT)
        except asyncio.TimeoutError:
            raise Fail(f"{self.name}: did not disconnect within {WAIT}s") from None

    def abort(self):
        """Drop the TCP connection without a word: no unavailable presence,
        no stream close."""
        self.x.abort()

    def drop(self):
        """Abandons a client whose login failed (slixmpp may already have
        closed the transport, and its abort() then raises)."""
        try:
            self.x.abort()
        except Exception:
            pass

    def send(self, to, body, typ='chat'):
        self.x.send_message(mto=to, mbody=body, mtype=typ)

    def subscribe(self, contact):
        self.x.client_roster.subscribe(contact)

    def approve(self, contact):
        self.x.client_roster[contact].authorize()

    def item(self, contact):
        it = self.x.client_roster[contact]
        return f"{contact} subscription={it['subscription']}"

    async def push(self, contact, want):
        """Waits for a roster push of contact's item as want describes it.
        Other pushes stay in the inbox: a server may push an item whose
        visible state did not change (e.g. when a request comes in)."""
        iq = await self.inbox.expect(f"roster push {want!r}",
                                     lambda k, st: is_push(contact)(k, st) and push_item(st)[1] == want)
        out(f"{self.name} push {want}")
        return iq

    async def presence(self, frm, typ='', show=None, status=None):
        what = f"presence type={typ or 'available'} from {frm}"
        if show is not None or status is not None:
            what += f" show={show} status={status}"
        p = await self.inbox.expect(what, is_presence(frm, typ, show, status))
        line = f"{self.name} presence {typ or 'available'} from {frm}"
        show = p.xml.findtext(f'{{{NS_CLIENT}}}show')
        status = p.xml.findtext(f'{{{NS_CLIENT}}}status')
        prio = p.xml.findtext(f'{{{NS_CLIENT}}}priority')
        if show:
            line += f" show={show}"
        if status:
            line += f" status={status}"
        if prio:
            line += f" priority={prio}"
        out(line)
        return p

    async def message(self, body, frm=None, typ='chat'):
        m = await self.inbox.expect(f"{typ} message {body!r}", is_message(body=body, frm=frm, typ=typ))
        out(f"{self.name} got {typ} {body!r} from {attr(m, 'from')}")
        return m

    async def features(self, jid):
        iq = await self.x['xep_0030'].get_info(jid=jid, timeout=WAIT)
        return set(iq['disco_info']['features'])

    async def need(self, var):
        """Prints NOFEATURE when the server domain does not advertise var."""
        feats = await self.features(DOMAIN)
        if var not in feats:
            out(f"NOFEATURE {var}")


async def login(*clients, **kw):
    await asyncio.gather(*(c.login(**kw) for c in clients))
    return clients


async def close(*clients):
    await asyncio.gather(*(c.disconnect() for c in clients if not c.gone.done()))


# --- Scenarios --------------------------------------------------------------

async def roster(_):
    alice = Client('alice', 'alice', 'a')
    await alice.connect()
    iq = await alice.roster()
    q = iq.xml.find(f'{{{NS_ROSTER}}}query')
    check(q is not None, f"roster result without query: {iq}")
    out(f"alice roster items={len(q)}")
    check(q.get('ver') is not None, f"roster result without ver: {iq}")
    out("alice roster versioned")
    alice.x.send_presence()
    await alice.ping()

    dave = 'dave@example.net'
    await alice.x.update_roster(dave, name='Dave', groups=['Friends', 'Work'], timeout=WAIT)
    push = await alice.push(dave, f"{dave} subscription=none name=Dave groups=Friends,Work")
    ver1 = push.xml.find(f'{{{NS_ROSTER}}}query').get('ver', '')
    check(ver1 != '', f"push without ver: {push}")

    # slixmpp keeps the pushed version and sends it with its next get.
    check(alice.x.client_roster.version == ver1, f"slixmpp roster version {alice.x.client_roster.version!r}, want {ver1!r}")
    iq = await alice.roster()
    q = iq.xml.find(f'{{{NS_ROSTER}}}query')
    # The cached version is current: an empty result (RFC 6121 §2.6.3).
    # slixmpp's own roster_update handler adds an empty <query/> to the
    # result it is given, so "empty" is no items and no ver.
    if q is None or (len(q) == 0 and q.get('ver') is None):
        out("alice roster current")
    else:
        raise Fail(f"a get with the current version {ver1} returned a full roster: {iq}")
    check(alice.x.client_roster[dave]['name'] == 'Dave', "slixmpp lost the cached item")
    items = await alice.full_roster()
    check(len(items) == 1, f"got {len(items)} items, want 1: {items}")
    out(f"alice roster item {items[0]}")

    # Rename: slixmpp sends the groups it has cached.
    await alice.x.update_roster(dave, name='David', timeout=WAIT)
    push = await alice.push(dave, f"{dave} subscription=none name=David groups=Friends,Work")
    ver2 = push.xml.find(f'{{{NS_ROSTER}}}query').get('ver', '')
    check(ver2 not in ('', ver1), f"version after rename {ver2!r}, want a new one (was {ver1!r})")
    out("alice roster version changed")

    await alice.x.del_roster_item(dave)
    await alice.push(dave, f"{dave} subscription=remove")
    check(dave not in alice.x.client_roster, "slixmpp still lists the removed item")
    out(f"alice roster items={len(await alice.full_roster())}")

    # Removing an item that is not there is an error.
    try:
        await alice.x.del_roster_item('nobody@example.net')
        raise Fail("removing an unknown item succeeded")
    except IqError as e:
        out(f"alice remove unknown: {e.iq['error']['condition']}")
    await close(alice)


async def subscribe(_):
    alice, bob = await login(Client('alice', 'alice', 'a'), Client('bob', 'bob', 'b'))

    # alice asks; bob sees the request and approves it.
    alice.subscribe(bob.bare)
    await alice.push(bob.bare, f"{bob.bare} subscription=none ask=subscribe")
    await bob.presence(alice.bare, 'subscribe')
    bob.approve(alice.bare)
    await bob.push(alice.bare, f"{alice.bare} subscription=from")
    await alice.push(bob.bare, f"{bob.bare} subscription=to")
    await alice.presence(bob.bare, 'subscribed')
    await alice.presence(bob.jid)

    # bob asks back; alice approves: both.
    bob.subscribe(alice.bare)
    await bob.push(alice.bare, f"{alice.bare} subscription=from ask=subscribe")
    await alice.presence(bob.bare, 'subscribe')
    alice.approve(bob.bare)
    await alice.push(bob.bare, f"{bob.bare} subscription=both")
    await bob.push(alice.bare, f"{alice.bare} subscription=both")
    await bob.presence(alice.bare, 'subscribed')
    await bob.presence(alice.jid)
    await alice.ping()
    await bob.ping()
    out(f"alice roster {alice.item(bob.bare)}")
    out(f"bob roster {bob.item(alice.bare)}")

    # Presence changes go both ways.
    alice.x.send_presence(pshow='away', pstatus='lunch')
    await bob.presence(alice.jid, show='away', status='lunch')
    bob.x.send_presence(pshow='dnd', pstatus='busy')
    await alice.presence(bob.jid, show='dnd', status='busy')

    # alice unsubscribes from bob: alice keeps 'from', bob 'to'; bob's
    # server tells alice bob is gone for her (RFC 6121 §3.3.3).
    alice.x.client_roster.unsubscribe(bob.bare)
    await alice.push(bob.bare, f"{bob.bare} subscription=from")
    await bob.presence(alice.bare, 'unsubscribe')
    await bob.push(alice.bare, f"{alice.bare} subscription=to")
    await soft(alice.presence(bob.jid, 'unavailable'))

    # alice cancels bob's subscription: none both ways, and bob gets
    # alice's unavailable presence from the server.
    alice.x.send_presence(pto=bob.bare, ptype='unsubscribed')
    await alice.push(bob.bare, f"{bob.bare} subscription=none")
    await bob.presence(alice.bare, 'unsubscribed')
    await bob.push(alice.bare, f"{alice.bare} subscription=none")
    await bob.presence(alice.jid, 'unavailable')

    # No presence flows any more.
    alice.x.send_presence(pstatus='anyone there?')
    await alice.ping()
    bob.x.send_presence(pto=alice.jid, pstatus='marker')  # directed, so it arrives
    await alice.presence(bob.jid, status='marker')
    await bob.ping()
    bob.inbox.none("presence from alice after unsubscription", is_presence(alice.jid, status='anyone there?'))
    out("bob no presence from alice")
    out(f"alice roster final {'; '.join(await alice.full_roster())}")
    out(f"bob roster final {'; '.join(await bob.full_roster())}")

    # Pre-approval (RFC 6121 §3.4): bob approves before alice asks, so the
    # server answers alice's request for him. A server that supports it
    # says so in its stream features, which slixmpp records as 'preapproval'.
    out(f"preapproval advertised: {'yes' if 'preapproval' in bob.x.features else 'no'}")
    bob.x.send_presence(pto=alice.bare, ptype='subscribed')
    await bob.push(alice.bare, f"{alice.bare} subscription=none approved=true")
    alice.subscribe(bob.bare)
    await alice.presence(bob.bare, 'subscribed')
    await alice.push(bob.bare, f"{bob.bare} subscription=to")
    await alice.presence(bob.jid, show='dnd', status='busy')  # his broadcast presence, not the directed one
    await bob.push(alice.bare, f"{alice.bare} subscription=from")
    await bob.ping()
    bob.inbox.none("subscription request he had approved in advance", is_presence(alice.bare, 'subscribe'))
    out("bob was not asked")
    await close(alice, bob)


async def offline_subscribe(_):
    (alice,) = await login(Client('alice', 'alice', 'a'))
    carol_bare = f"carol@{DOMAIN}"
    # slixmpp's subscribe helpers take no status; build the request by hand
    # so the stored request is seen to keep its payload.
    p = alice.x.Presence(sto=carol_bare, stype='subscribe')
    p['status'] = 'it is alice'
    p.send()
    await alice.push(carol_bare, f"{carol_bare} subscription=none ask=subscribe")
    await alice.ping()

    # carol logs in and does not answer: the request comes again next time.
    for i, res in enumerate(('c1', 'c2')):
        carol = Client('carol', 'carol', res)
        await carol.connect()
        await carol.roster()
        carol.inbox.none("subscription request before initial presence", is_presence(alice.bare, 'subscribe'))
        carol.x.send_presence()
        req = await carol.presence(alice.bare, 'subscribe')
        if i == 0:
            await carol.disconnect()
    status = req.xml.findtext(f'{{{NS_CLIENT}}}status')
    out(f"carol request status={status}")
    carol.approve(alice.bare)
    await carol.push(alice.bare, f"{alice.bare} subscription=from")
    await alice.presence(carol_bare, 'subscribed')
    await alice.push(carol_bare, f"{carol_bare} subscription=to")
    await alice.presence(carol.jid)
    await close(alice, carol)


async def resources_priority(_):
    one = Client('alice/one', 'alice', 'one')
    two = Client('alice/two', 'alice', 'two')
    bob = Client('bob', 'bob', 'b')
    await login(bob)
    await one.login(priority=5)
    await two.login(priority=1)
    # Each resource sees the other.
    await one.presence(two.jid)
    await two.presence(one.jid)

    # To the bare JID: only the highest priority.
    bob.send(one.bare, 'to bare, one is 5')
    await one.message('to bare, one is 5', frm=bob.jid)
    bob.send(two.jid, 'marker 1')  # same sender, so it arrives after anything before it
    await two.message('marker 1', frm=bob.jid)
    two.inbox.none("bare message at lower priority", is_message(body='to bare, one is 5'))
    out("alice/two did not get it")

    # Headlines go to every available resource.
    bob.send(one.bare, 'headline to bare', typ='headline')
    await one.message('headline to bare', typ='headline')
    await two.message('headline to bare', typ='headline')

    # Negative priority: no bare-JID messages, full JID still works.
    one.x.send_presence(ppriority=-1)
    await two.presence(one.jid)
    await one.ping()
    bob.send(one.bare, 'to bare, one is -1')
    await two.message('to bare, one is -1', frm=bob.jid)
    bob.send(one.jid, 'to one directly')
    await one.message('to one directly', frm=bob.jid)
    one.inbox.none("bare message at negative priority", is_message(body='to bare, one is -1'))
    out("alice/one did not get it")
    bob.send(two.jid, 'to two directly')
    await two.message('to two directly', frm=bob.jid)
    bob.send(one.jid, 'marker 2')
    await one.message('marker 2', frm=bob.jid)
    one.inbox.none("message for two", is_message(body='to two directly'))
    out("alice/one did not get two's message")

    # A tie: both get it.
    one.x.send_presence(ppriority=1)
    await two.presence(one.jid)
    await one.ping()
    bob.send(one.bare, 'tie')
    await one.message('tie', frm=bob.jid)
    await two.message('tie', frm=bob.jid)

    # two leaves: one sees it go.
    await two.disconnect()
    await one.presence(two.jid, 'unavailable')
    bob.send(one.bare, 'after two left')
    await one.message('after two left', frm=bob.jid)
    await close(one, bob)


async def offline_messages(_):
    (bob,) = await login(Client('bob', 'bob', 'b'))
    alice_bare = f"alice@{DOMAIN}"
    for body in ('one', 'two', 'three'):
        bob.send(alice_bare, body)
    bob.send(alice_bare, 'not stored', typ='headline')
    bob.send(f"nobody@{DOMAIN}", 'to nobody')
    err = await bob.inbox.expect("error for a message to an unknown user",
                                 lambda k, st: k == 'message' and attr(st, 'type') == 'error')
    out(f"bob error from {attr(err, 'from')}: {error_condition(err)}")
    await bob.ping()
    bob.inbox.none("bounce of a message to an offline user", lambda k, st: k == 'message')
    out("bob no bounce for offline alice")

    alice = Client('alice', 'alice', 'a')
    await alice.login()  # the ping after initial presence follows the stored messages
    got = [st for k, st in alice.inbox.items if k == 'message']
    now = datetime.datetime.now(datetime.timezone.utc)
    for m in got:
        stamp = m['delay']['stamp']
        check(stamp is not None, f"offline message without delay: {m}")
        age = (now - stamp).total_seconds()
        check(-60 < age < 60, f"delay stamp {stamp} is {age}s from now")
        out(f"alice offline {attr(m, 'type')} {m['body']!r} from {attr(m, 'from')} delay from={m['delay']['from']}")
    check(len(got) == 3, f"got {len(got)} offline messages, want 3")
    alice.inbox.items.clear()
    await alice.disconnect()

    again = Client('alice again', 'alice', 'a2')
    await again.login()
    n = len([1 for k, _ in again.inbox.items if k == 'message'])
    out(f"alice second login messages={n}")
    check(n == 0, f"second login got {n} messages: {again.inbox.summary()}")
    await close(again, bob)


async def mutual(a, b):
    """Subscribes a and b to each other (both online)."""
    a.subscribe(b.bare)
    await b.inbox.expect("subscribe", is_presence(a.bare, 'subscribe'))
    b.approve(a.bare)
    await a.inbox.expect("subscribed", is_presence(b.bare, 'subscribed'))
    b.subscribe(a.bare)
    await a.inbox.expect("subscribe", is_presence(b.bare, 'subscribe'))
    a.approve(b.bare)
    await b.inbox.expect("subscribed", is_presence(a.bare, 'subscribed'))
    await a.ping()
    await b.ping()
    out(f"{a.name} roster {a.item(b.bare)}")


async def directed_presence(_):
    alice, bob, carol = await login(Client('alice', 'alice', 'a'), Client('bob', 'bob', 'b'), Client('carol', 'carol', 'c'))
    await mutual(alice, bob)

    # carol, who has no subscription, gets directed presence from alice.
    alice.x.send_presence(pto=carol.jid, pstatus='hi carol')
    await carol.presence(alice.jid)

    # A new resource of bob's gets alice's presence (the server answers the
    # probe of its initial presence) and alice gets the new resource's.
    bob2 = Client('bob/b2', 'bob', 'b2')
    await bob2.login(status='second')
    await bob2.presence(alice.jid)
    await alice.presence(bob2.jid, status='second')
    await bob2.disconnect()
    await alice.presence(bob2.jid, 'unavailable')

    # bob's connection drops: alice (a subscriber) learns.
    bob.abort()
    await alice.presence(bob.jid, 'unavailable')
    # alice's drops: carol (directed presence) learns.
    alice.abort()
    await carol.presence(alice.jid, 'unavailable')
    await carol.ping()
    await close(carol)


async def register(_):
    user, pw, newpw = 'dora', CREDS['dora'], CREDS['dora.new']

    async def on_register(form):
        q = form.xml.find('{jabber:iq:register}query')
        fields = sorted(c.tag.split('}', 1)[1] for c in (q if q is not None else [])
                        if not c.tag.endswith('}instructions'))
        out(f"register form fields: {' '.join(fields)}")
        iq = dora.x.Iq()
        iq['type'] = 'set'
        iq['register']['username'] = user
        iq['register']['password'] = pw
        try:
            await iq.send(timeout=WAIT)
            out("register ok")
        except IqError as e:
            out(f"register failed: {e.iq['error']['condition']}")
            dora.x.disconnect()

    dora = Client('dora', user, 'r', password=pw, plugins=('xep_0077',), register=on_register)
    await dora.login()
    out(f"dora logged in as {dora.x.boundjid.full}")

    await dora.x['xep_0077'].change_password(newpw, jid=DOMAIN, timeout=WAIT)
    out("password changed")
    check_new = Client('dora new pw', user, 'r2', password=newpw)
    await check_new.connect()
    out("new password works")
    await check_new.disconnect()
    check_old = Client('dora old pw', user, 'r3', password=pw)
    try:
        await check_old.connect()
        raise Fail("the old password still works")
    except Fail as e:
        if 'authentication failed' not in str(e):
            raise
        out("old password refused")
    check_old.drop()

    await dora.x['xep_0077'].cancel_registration(jid=DOMAIN, timeout=WAIT)
    out("registration cancelled")
    err = await dora.inbox.expect("stream error after removal", lambda k, st: k == 'stream_error')
    out(f"dora stream error {err['condition']}")
    gone = Client('dora removed', user, 'r4', password=newpw)
    try:
        await gone.connect()
        raise Fail("the removed account still logs in")
    except Fail as e:
        if 'authentication failed' not in str(e):
            raise
        out("removed account refused")
    gone.drop()


async def carbons(_):
    one = Client('alice/one', 'alice', 'one', plugins=('xep_0280',))
    two = Client('alice/two', 'alice', 'two', plugins=('xep_0280',))
    bob = Client('bob', 'bob', 'b')
    await login(one, two, bob)
    await one.need('urn:xmpp:carbons:2')
    for c in (one, two):
        await c.x['xep_0280'].enable(timeout=WAIT)
    out("carbons enabled on one and two")

    def carbon(direction, body):
        def pred(kind, st):
            if kind != 'message':
                return False
            el = st.xml.find(f'{{urn:xmpp:carbons:2}}{direction}')
            if el is None:
                return False
            inner = st[f'carbon_{direction}']
            return inner['body'] == body
        return pred

    bob.send(one.jid, 'bob to one')
    await one.message('bob to one', frm=bob.jid)
    m = await two.inbox.expect("received carbon", carbon('received', 'bob to one'))
    inner = m['carbon_received']
    out(f"alice/two carbon received from={attr(m, 'from')} inner from={inner['from']} to={inner['to']} body={inner['body']!r}")

    one.send(bob.bare, 'one to bob')
    await bob.message('one to bob', frm=one.jid)
    m = await two.inbox.expect("sent carbon", carbon('sent', 'one to bob'))
    inner = m['carbon_sent']
    out(f"alice/two carbon sent from={attr(m, 'from')} inner from={inner['from']} to={inner['to']} body={inner['body']!r}")
    await one.ping()
    one.inbox.none("carbon of its own message", carbon('sent', 'one to bob'))
    out("alice/one got no copy of its own message")

    # A message marked private is not copied.
    msg = one.x.make_message(mto=bob.bare, mbody='private', mtype='chat')
    msg.enable('carbon_private')
    msg.send()
    await bob.message('private', frm=one.jid)
    one.send(bob.bare, 'after private')
    await two.inbox.expect("sent carbon", carbon('sent', 'after private'))
    two.inbox.none("carbon of a private message", carbon('sent', 'private'))
    out("alice/two got no copy of the private message")
    await close(one, two, bob)


async def blocking(_):
    alice = Client('alice', 'alice', 'a', plugins=('xep_0191',))
    bob = Client('bob', 'bob', 'b')
    await login(alice, bob)
    await alice.need('urn:xmpp:blocking')
    await alice.x['xep_0191'].block([bob.bare], timeout=WAIT)
    iq = await alice.x['xep_0191'].get_blocked(timeout=WAIT)
    out(f"alice blocklist {' '.join(sorted(str(j) for j in iq['blocklist']['items']))}")

    bob.send(alice.bare, 'blocked?')
    err = await bob.inbox.expect("error for a message to someone who blocked him",
                                 lambda k, st: k == 'message' and attr(st, 'type') == 'error')
    out(f"bob error: {error_condition(err)}")
    alice.send(bob.bare, 'to blocked bob')
    err = await alice.inbox.expect("error for a message to a blocked contact",
                                   lambda k, st: k == 'message' and attr(st, 'type') == 'error')
    blocked = err.xml.find(f'{{{NS_CLIENT}}}error/{{urn:xmpp:blocking:errors}}blocked') is not None
    out(f"alice error: {error_condition(err)} blocked={'yes' if blocked else 'no'}")
    await alice.ping()
    await bob.ping()
    alice.inbox.none("message from a blocked contact", is_message(body='blocked?'))
    bob.inbox.none("message from someone who blocked him", is_message(body='to blocked bob'))
    out("nothing delivered while blocked")

    await alice.x['xep_0191'].unblock([bob.bare], timeout=WAIT)
    iq = await alice.x['xep_0191'].get_blocked(timeout=WAIT)
    out(f"alice blocklist items={len(iq['blocklist']['items'])}")
    bob.send(alice.bare, 'unblocked')
    await alice.message('unblocked', frm=bob.jid)
    alice.send(bob.bare, 'hello again')
    await bob.message('hello again', frm=alice.jid)
    await close(alice, bob)


async def vcard(_):
    alice = Client('alice', 'alice', 'a', plugins=('xep_0054',))
    bob = Client('bob', 'bob', 'b', plugins=('xep_0054',))
    await login(alice, bob)
    await alice.need('vcard-temp')
    v = alice.x['xep_0054'].make_vcard()
    v['FN'] = 'Alice Liddell'
    v['NICKNAME'] = 'alice'
    await alice.x['xep_0054'].publish_vcard(v, timeout=WAIT)
    out("alice published her vCard")
    iq = await bob.x['xep_0054'].get_vcard(alice.bare, cached=False, timeout=WAIT)
    fn = iq.xml.findtext('{vcard-temp}vCard/{vcard-temp}FN')
    nick = iq.xml.findtext('{vcard-temp}vCard/{vcard-temp}NICKNAME')
    out(f"bob sees FN={fn} NICKNAME={nick}")
    try:
        v2 = bob.x['xep_0054'].make_vcard()
        v2['FN'] = 'Mallory'
        iq = bob.x.make_iq_set(ito=alice.bare)
        iq.append(v2)
        await iq.send(timeout=WAIT)
        raise Fail("bob changed alice's vCard")
    except IqError as e:
        out(f"bob setting alice's vCard: {e.iq['error']['condition']}")
    await close(alice, bob)


class Note(ElementBase):
    """A private element of our own, stored with XEP-0049."""
    name = 'note'
    namespace = 'junction:test:private'
    plugin_attrib = 'junction_note'
    interfaces = {'title', 'text'}
    sub_interfaces = {'text'}


async def private(_):
    alice = Client('alice', 'alice', 'a', plugins=('xep_0049',))
    bob = Client('bob', 'bob', 'b', plugins=('xep_0049',))
    await login(alice, bob)
    await alice.need('jabber:iq:private')
    for c in (alice, bob):
        c.x['xep_0049'].register(Note)
    iq = await alice.x['xep_0049'].retrieve('junction_note', timeout=WAIT)
    out(f"alice empty note title={iq['private']['junction_note']['title']!r}")
    n = Note()
    n['title'] = 'groceries'
    n['text'] = 'eggs, milk'
    await alice.x['xep_0049'].store(n, timeout=WAIT)
    out("alice stored a note")
    again = Client('alice again', 'alice', 'a2', plugins=('xep_0049',))
    await again.login()
    again.x['xep_0049'].register(Note)
    iq = await again.x['xep_0049'].retrieve('junction_note', timeout=WAIT)
    got = iq['private']['junction_note']
    out(f"alice retrieved title={got['title']} text={got['text']}")
    try:
        iq = bob.x.make_iq_get(ito=alice.bare)
        iq['private'].enable('junction_note')
        await iq.send(timeout=WAIT)
        raise Fail("bob read alice's private storage")
    except IqError as e:
        out(f"bob reading alice's storage: {e.iq['error']['condition']}")
    await close(alice, again, bob)


SCENARIOS = {
    'roster': roster,
    'subscribe': subscribe,
    'offline-subscribe': offline_subscribe,
    'resources-priority': resources_priority,
    'offline-messages': offline_messages,
    'directed-presence': directed_presence,
    'register': register,
    'carbons': carbons,
    'blocking': blocking,
    'vcard': vcard,
    'private': private,
}


async def run(name, args):
    try:
        await asyncio.wait_for(SCENARIOS[name](args), 30)
    except Fail as e:
        out(f"FAIL {e}")
        return 1
    except (IqError, IqTimeout) as e:
        iq = getattr(e, 'iq', None)
        out(f"FAIL iq {type(e).__name__}: {iq}")
        return 1
    except asyncio.TimeoutError:
        out("FAIL scenario timed out")
        return 1
    if MISSED:
        out(f"FAIL {len(MISSED)} expected events missed")
        return 1
    out("OK")
    return 0


def main():
    global DOMAIN, PORT
    p = argparse.ArgumentParser()
    p.add_argument('--scenario', choices=sorted(SCENARIOS), required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--domain', default='localhost')
    p.add_argument('--debug', action='store_true')
    args = p.parse_args()
    DOMAIN, PORT = args.domain, args.port
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR,
                        format='%(relativeCreated)6d %(levelname)s %(name)s %(message)s', stream=sys.stderr)
    for line in sys.stdin.read().splitlines():
        if '=' in line:
            k, v = line.split('=', 1)
            CREDS[k] = v
    loop = asyncio.get_event_loop()
    code = loop.run_until_complete(run(args.scenario, args))
    # slixmpp leaves its filter tasks behind; end them quietly.
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    sys.exit(code)


if __name__ == '__main__':
    main()
