#!/usr/bin/env python3
"""The ending oracle's Python peer: one long-lived process that plays the far end of many
connections, one after another. Each connection is driven by this one thread through a selector
loop (reads and writes interleaved), so the peer cannot lose a reset to a read/write race of its
own: the first call that reports the reset is the one that counts, and it is remembered.

Commands on stdin, one per line:
  LISTEN id PLAN          listen on 127.0.0.1:0, print PORT, accept one connection, run PLAN
  CONNECT id port PLAN    connect to 127.0.0.1:port, run PLAN
  RESUME id               a peer that stopped reading reads again
PLAN is key=value words (every key required):
  sends=N      write N pattern bytes while reading       halfclose=0|1  then shutdown(SHUT_WR)
  rcvbuf=N     SO_RCVBUF before connect/listen (0: none) stop=N   stop reading after N bytes (-1: never)
  reset=N      after reading N bytes, RST (-1: never)     resetoneof=0|1 RST instead of FIN after our FIN
  slow=0|1     read 4 KiB at a time, 1 ms apart           guard=S  give up after S s without progress

Events on stdout:
  PORT id port | CONNECTED id (connected or accepted) | STOPPED id count | HALF_CLOSED id
  RESET_SENT id count state
  DONE id SEEN count crc32 sent peerreset state detail
SEEN is EOF (our FIN), RST (our RST), NONE (the peer reset before either arrived) or ERROR.
The pattern is byte i = i % 251, the same as dev.tcpscope.testing.Patterns.
"""
import os
import selectors
import socket
import struct
import sys
import time
import zlib

PERIOD = 251
BLOCK = bytes(i % PERIOD for i in range(PERIOD * 257))  # a slice [k, k + 64256) starts at pattern offset k
STATES = {1: 'ESTABLISHED', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2', 6: 'TIME_WAIT', 7: 'CLOSE', 8: 'CLOSE_WAIT',
          9: 'LAST_ACK', 11: 'CLOSING'}


def say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def tcp_state(sock):
    try:
        return STATES.get(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0], 'OTHER')
    except OSError:
        return 'UNKNOWN'


class Peer:
    """One connection and its plan."""

    def __init__(self, cid, plan, sel):
        self.cid, self.plan, self.sel = cid, plan, sel
        self.sock = None
        self.count = self.crc = self.sent = 0
        self.stopped = self.resumed = self.half_closed = False
        self.seen = None          # 'EOF' or 'RST' once our end was read
        self.send_error = None    # 'ECONNRESET' or 'EPIPE', as the first failing send reported it
        self.next_read = 0.0
        self.progress = time.monotonic()
        self.done = False
        self.registered = False

    def attach(self, sock):
        sock.setblocking(False)
        self.sock = sock
        say('CONNECTED %s' % self.cid)
        self.check_thresholds()
        self.maybe_half_close()

    def update(self):
        """Registers the socket for what the peer wants now; unregisters it while it wants
        nothing (stopped, or pausing between slow reads), so that select does not spin on it."""
        if self.sock is None or self.done:
            return
        events = self.interest()
        if events and self.registered:
            self.sel.modify(self.sock, events, self)
        elif events:
            self.sel.register(self.sock, events, self)
            self.registered = True
        elif self.registered:
            self.release()

    def release(self):
        if self.registered:
            self.sel.unregister(self.sock)
            self.registered = False

    def want_read(self):
        if self.seen or self.done or (self.stopped and not self.resumed):
            return False
        return time.monotonic() >= self.next_read

    def want_write(self):
        return not self.done and self.send_error is None and self.sent < self.plan['sends'] and self.seen != 'RST'

    def interest(self):
        return (selectors.EVENT_READ if self.want_read() else 0) | (selectors.EVENT_WRITE if self.want_write() else 0)

    def on_read(self):
        p = self.plan
        want = 4096 if p['slow'] else 65536
        if p['stop'] >= 0 and not self.resumed:
            want = min(want, p['stop'] - self.count)
        if p['reset'] >= 0:
            want = min(want, p['reset'] - self.count)
        if want <= 0:
            return
        try:
            data = self.sock.recv(want)
        except BlockingIOError:
            return
        except ConnectionResetError:
            self.end('RST')
            return
        except OSError as e:
            self.finish('ERROR', 'recv: %s' % e)
            return
        self.progress = time.monotonic()
        if not data:
            # After a send took the reset, recv reads 0: the reset is what happened (ECONNRESET),
            # unless it came after our FIN (EPIPE), which reads as the end it is.
            self.end('RST' if self.send_error == 'ECONNRESET' else 'EOF')
            return
        self.count += len(data)
        self.crc = zlib.crc32(data, self.crc)
        if p['slow']:
            self.next_read = time.monotonic() + 0.001
        self.check_thresholds()

    def check_thresholds(self):
        p = self.plan
        if self.done:
            return
        if 0 <= p['reset'] <= self.count:
            state = tcp_state(self.sock)
            self.abort()
            say('RESET_SENT %s %d %s' % (self.cid, self.count, state))
            self.finish('NONE', '-', peer_reset=1, state=state)
            return
        if 0 <= p['stop'] <= self.count and not self.stopped and not self.resumed:
            self.stopped = True
            say('STOPPED %s %d' % (self.cid, self.count))

    def on_write(self):
        remaining = self.plan['sends'] - self.sent
        offset = self.sent % PERIOD
        try:
            n = self.sock.send(BLOCK[offset:offset + min(remaining, PERIOD * 256)])
        except BlockingIOError:
            return
        except ConnectionResetError:
            self.send_error = 'ECONNRESET'
            return
        except BrokenPipeError:
            self.send_error = 'EPIPE'
            return
        self.sent += n
        self.progress = time.monotonic()
        self.maybe_half_close()

    def maybe_half_close(self):
        if self.sent == self.plan['sends'] and self.plan['halfclose'] and not self.half_closed and not self.done:
            self.half_closed = True
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # already reset: the reads that follow report it
            say('HALF_CLOSED %s' % self.cid)

    def end(self, seen):
        """Our end arrived: EOF or RST. Sends still owed after EOF go out first."""
        self.seen = seen
        if seen == 'EOF' and self.want_write():
            return
        self.close_after_end()

    def close_after_end(self):
        if self.seen == 'EOF' and self.plan['resetoneof']:
            state = tcp_state(self.sock)
            self.abort()
            self.finish('EOF', '-', peer_reset=1, state=state)
            return
        self.release()
        self.sock.close()  # after EOF nothing is left unread: FIN
        self.finish(self.seen, '-')

    def abort(self):
        self.release()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.sock.close()

    def finish(self, seen, detail, peer_reset=0, state='-'):
        if self.done:
            return
        self.done = True
        if seen == 'ERROR' and self.sock is not None and self.sock.fileno() >= 0:
            try:
                self.abort()
            except OSError:
                pass
        say('DONE %s %s %d %d %d %d %s %s' % (self.cid, seen, self.count, self.crc, self.sent, peer_reset, state,
                                                detail.replace(' ', '_')))

    def tick(self):
        """Called every loop: finish a pending end once owed sends are out; the guard."""
        if self.done:
            return
        if self.seen == 'EOF' and not self.want_write():
            self.close_after_end()
            return
        if time.monotonic() - self.progress > self.plan['guard'] and not (self.stopped and not self.resumed):
            self.finish('ERROR', 'guard: no progress for %ss' % self.plan['guard'])


def parse_plan(words):
    plan = {}
    for w in words:
        k, v = w.split('=', 1)
        plan[k] = int(v)
    return plan


def main():
    sel = selectors.DefaultSelector()
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    sel.register(stdin, selectors.EVENT_READ, 'stdin')
    pending = b''
    peers = {}
    listeners = {}
    say('READY')
    while True:
        for peer in list(peers.values()):
            if peer.done:
                del peers[peer.cid]
            else:
                peer.update()
        slow = any(p.plan['slow'] and not p.want_read() and not p.done for p in peers.values())
        for key, mask in sel.select(0.001 if slow else 0.05):
            owner = key.data
            if owner == 'stdin':
                chunk = os.read(stdin, 65536)
                if not chunk:
                    return
                pending += chunk
                while b'\n' in pending:
                    line, pending = pending.split(b'\n', 1)
                    command(line.decode().split(), sel, peers, listeners)
            elif isinstance(owner, tuple):  # a listener: (cid, peer)
                listener = key.fileobj
                try:
                    sock, _ = listener.accept()
                except BlockingIOError:
                    continue
                sel.unregister(listener)
                listener.close()
                del listeners[owner[0]]
                owner[1].attach(sock)
            elif isinstance(owner, Peer):
                try:
                    if mask & selectors.EVENT_WRITE and owner.want_write():
                        owner.on_write()
                    if mask & selectors.EVENT_READ and owner.want_read():
                        owner.on_read()
                except Exception as e:  # a bug of this peer: report it, keep serving
                    owner.finish('ERROR', 'peer bug: %r' % e)
        for peer in list(peers.values()):
            if peer.sock is not None:
                try:
                    peer.tick()
                except Exception as e:
                    peer.finish('ERROR', 'peer bug: %r' % e)


def command(words, sel, peers, listeners):
    if not words:
        return
    if words[0] == 'LISTEN':
        cid, plan = words[1], parse_plan(words[2:])
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if plan['rcvbuf']:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, plan['rcvbuf'])  # accepted sockets inherit it
        listener.bind(('127.0.0.1', 0))
        listener.listen(1)
        listener.setblocking(False)
        peer = Peer(cid, plan, sel)
        peers[cid] = peer
        listeners[cid] = listener
        sel.register(listener, selectors.EVENT_READ, (cid, peer))
        say('PORT %s %d' % (cid, listener.getsockname()[1]))
    elif words[0] == 'CONNECT':
        cid, port, plan = words[1], int(words[2]), parse_plan(words[3:])
        peer = Peer(cid, plan, sel)
        peers[cid] = peer
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if plan['rcvbuf']:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, plan['rcvbuf'])
        sock.settimeout(10)
        try:
            sock.connect(('127.0.0.1', port))
        except ConnectionResetError:
            sock.close()
            peer.finish('RST', 'reset_while_connecting')
            return
        except OSError as e:
            sock.close()
            peer.finish('ERROR', 'connect: %s' % e)
            return
        peer.attach(sock)
    elif words[0] == 'RESUME':
        peer = peers.get(words[1])
        if peer is not None:
            peer.resumed = True
            peer.progress = time.monotonic()
    elif words[0] == 'CANCEL':
        peer = peers.get(words[1])
        if peer is not None and not peer.done:
            if peer.sock is not None:
                peer.abort()
            peer.finish('ERROR', 'cancelled')
        listener = listeners.pop(words[1], None)
        if listener is not None:
            sel.unregister(listener)
            listener.close()


if __name__ == '__main__':
    main()
