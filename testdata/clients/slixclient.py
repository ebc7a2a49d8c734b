#!/usr/bin/python3
"""Drive Junction with slixmpp, a client library we did not write.

Modes:
  exchange  A and B log in, A pings the server, A sends B a message, B
            answers, A receives it; prints one line per step and "OK".
  badauth   A logs in with the given (wrong) password; prints
            "AUTH FAILED <condition>" when the server refuses it.
Passwords are read from stdin (one per line: A's, then B's) so they never
appear in a process list.
"""
import argparse
import asyncio
import logging
import ssl
import sys

import slixmpp


def new_client(jid, password, mech):
    c = slixmpp.ClientXMPP(jid, password, sasl_mech=mech)
    c.ssl_context.check_hostname = False
    c.ssl_context.verify_mode = ssl.CERT_NONE
    c.register_plugin('xep_0199')
    return c


def connect(c, args):
    if args.direct_tls:
        c.enable_direct_tls = True
        c.enable_starttls = False
        c.connect(address=('127.0.0.1', args.port), use_ssl=True)
    else:
        c.connect(address=('127.0.0.1', args.port), force_starttls=True)


async def exchange(args, pa, pb):
    loop = asyncio.get_event_loop()
    a_ready, b_ready = loop.create_future(), loop.create_future()
    a_got, b_got = loop.create_future(), loop.create_future()
    a = new_client(args.a, pa, args.mech)
    b = new_client(args.b, pb, args.mech)

    def fail(name):
        def f(ev):
            print(f"{name} AUTH FAILED", flush=True)
            for fut in (a_ready, b_ready, a_got, b_got):
                if not fut.done():
                    fut.set_exception(RuntimeError(f"{name} auth failed"))
        return f

    a.add_event_handler('failed_all_auth', fail('A'))
    b.add_event_handler('failed_all_auth', fail('B'))
    a.add_event_handler('session_start', lambda ev: (a.send_presence(), a_ready.set_result(True)))
    b.add_event_handler('session_start', lambda ev: (b.send_presence(), b_ready.set_result(True)))

    def on_b_message(msg):
        if msg['type'] in ('chat', 'normal') and not b_got.done():
            b_got.set_result(msg['body'])
            b.send_message(mto=msg['from'], mbody='pong: ' + msg['body'], mtype='chat')

    def on_a_message(msg):
        if msg['type'] in ('chat', 'normal') and not a_got.done():
            a_got.set_result(msg['body'])

    b.add_event_handler('message', on_b_message)
    a.add_event_handler('message', on_a_message)
    connect(a, args)
    connect(b, args)
    await asyncio.wait_for(asyncio.gather(a_ready, b_ready), 20)
    print(f"A bound {a.boundjid.full}", flush=True)
    print(f"B bound {b.boundjid.full}", flush=True)
    rtt = await a['xep_0199'].ping(jid=a.boundjid.domain, timeout=10)
    print(f"A ping ok", flush=True)
    a.send_message(mto=args.b, mbody='hello from slixmpp', mtype='chat')
    body = await asyncio.wait_for(b_got, 10)
    print(f"B got: {body}", flush=True)
    body = await asyncio.wait_for(a_got, 10)
    print(f"A got: {body}", flush=True)
    a.disconnect()
    b.disconnect()
    await asyncio.sleep(0.2)
    print("OK", flush=True)


async def badauth(args, pa):
    loop = asyncio.get_event_loop()
    done = loop.create_future()
    a = new_client(args.a, pa, args.mech)

    def on_failed(stanza):
        if not done.done():
            done.set_result(stanza['condition'])

    a.add_event_handler('failed_auth', on_failed)
    a.add_event_handler('session_start', lambda ev: done.done() or done.set_result('SUCCESS'))
    connect(a, args)
    cond = await asyncio.wait_for(done, 20)
    if cond == 'SUCCESS':
        print("AUTH SUCCEEDED", flush=True)
    else:
        print(f"AUTH FAILED {cond}", flush=True)
    a.disconnect()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--mode', choices=['exchange', 'badauth'], required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--direct-tls', action='store_true')
    p.add_argument('--mech', default='SCRAM-SHA-256')
    p.add_argument('--a', required=True)
    p.add_argument('--b')
    p.add_argument('--debug', action='store_true')
    args = p.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format='%(levelname)s %(name)s %(message)s', stream=sys.stderr)
    lines = sys.stdin.read().splitlines()
    loop = asyncio.get_event_loop()
    if args.mode == 'exchange':
        loop.run_until_complete(exchange(args, lines[0], lines[1]))
    else:
        loop.run_until_complete(badauth(args, lines[0]))


if __name__ == '__main__':
    main()
