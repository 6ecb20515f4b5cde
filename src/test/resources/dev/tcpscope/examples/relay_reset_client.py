#!/usr/bin/env python3
"""Client and upstream of the Relay example, for RelayResetRaceTest: many runs in one process.

Protocol (one line per event on stdout, commands on stdin):

  UPSTREAM <port>             the upstream listens on 127.0.0.1:<port>
  (stdin) RELAY <port> <runs> the relay listens on 127.0.0.1:<port>; do <runs> runs
  BAD <run> <what>            a run whose client did not see what the relay must show (at most 10)
  RESULT runs=N fin=F rst=R rst_short=S other=O unstalled=U
                              counts: the client saw a clean end (FIN), a reset after every
                              byte of the run's partial response (rst), a reset after fewer bytes
                              (rst_short), something else (other); and runs in which the
                              client's request never stalled (unstalled)

Each run: the client connects through the relay and sends a large request; the upstream reads
none of it, so the relay's pump towards the upstream soon parks on a full send buffer, and the
client's send stalls. Then the upstream resets: in even runs after 1,000 bytes of a response,
which the client has received, in odd runs at once (the race hits more often then: about 1.5%
of runs against 0.3% on the unfixed code). In the relay both pumps wake on that reset: the one
reading the upstream and the one writing to it. Whichever call the kernel tells, the relay must
pass a reset on to the client, never a clean end.

One thread per socket: the client's socket is used by the client thread only, the upstream's
by the main thread only. The client does its sends and receives in one thread (non-blocking,
with select), so it cannot lose the reset to a race of its own: if a send takes ECONNRESET the
run counts as RST; EPIPE on a send means the relay had already sent FIN (a reset after a FIN
gives EPIPE), so the client stops sending and its reads decide.
"""
import socket
import select
import struct
import sys
import threading

PARTIAL = bytes(i % 251 for i in range(1000))  # the part of the response sent before the reset (even runs)
REQUEST_CAP = 16 * 1024 * 1024                 # a request never stalls only if something is wrong
CHUNK = b'q' * 65536
SMALL = 4096
SMALL_MSS = 1024
GUARD = 30.0                                   # seconds; only a hang comes near it


def say(line):
    print(line, flush=True)


def client_run(port, partial, stalled, capped, got_partial, outcome):
    """Connects through the relay, sends until stalled (and on), reads until the stream ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL)
        sock.connect(('127.0.0.1', port))
        sock.setblocking(False)
        received = bytearray()
        sent = 0
        sending = True
        while True:
            readable, writable, _ = select.select([sock], [sock] if sending else [], [], GUARD)
            if not readable and not writable:
                outcome.append(('other', 'nothing happened for %d s; %d bytes received' % (GUARD, len(received))))
                return
            try:
                # Until EAGAIN: select reports writable while any space is free, and a send
                # then takes what fits; only a send into a full buffer says it is full.
                while writable and sending:
                    sent += sock.send(CHUNK)
                    if sent >= REQUEST_CAP:
                        sending = False
                        capped.set()
                        stalled.set()  # let the upstream go on; the run counts as unstalled
            except BlockingIOError:
                stalled.set()          # the relay stopped reading us: its pump is writing upstream
            except ConnectionResetError:
                outcome.append(('rst', bytes(received)))
                return
            except BrokenPipeError:
                sending = False
            if readable:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    outcome.append(('rst', bytes(received)))
                    return
                if not data:
                    outcome.append(('fin', bytes(received)))
                    return
                received += data
                if len(received) >= len(partial):
                    got_partial.set()
    except OSError as e:
        outcome.append(('other', repr(e)))
    finally:
        stalled.set()
        got_partial.set()
        sock.close()


def main():
    upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Accepted sockets inherit both: a small window, and a small MSS in the SYN-ACK. Linux sizes
    # the relay's send buffer towards us from the MSS (64 KiB on loopback: MiBs of buffer that
    # every run would have to fill before the relay's pump parks).
    upstream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL)
    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, SMALL_MSS)
    upstream.bind(('127.0.0.1', 0))
    upstream.listen(16)
    upstream.settimeout(GUARD)
    say('UPSTREAM %d' % upstream.getsockname()[1])

    command = sys.stdin.readline().split()
    relay_port, runs = int(command[1]), int(command[2])
    counts = {'fin': 0, 'rst': 0, 'rst_short': 0, 'other': 0, 'unstalled': 0}
    bad = 0
    for run in range(runs):
        stalled, capped, got_partial = threading.Event(), threading.Event(), threading.Event()
        outcome = []
        partial = PARTIAL if run % 2 == 0 else b''
        client = threading.Thread(target=client_run,
                                  args=(relay_port, partial, stalled, capped, got_partial, outcome))
        client.start()
        server, _ = upstream.accept()
        try:
            if not stalled.wait(GUARD) or capped.is_set():
                counts['unstalled'] += 1
            if partial:
                server.sendall(partial)
                # Reset once the relay has passed the partial response on: then its pump reading
                # the upstream is parked again, and wakes on the reset together with the other.
                got_partial.wait(GUARD)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        finally:
            server.close()  # SO_LINGER {1, 0}: RST
        client.join(GUARD)
        kind, detail = outcome[0] if outcome else ('other', 'the client thread did not end')
        if kind == 'rst' and detail != partial:
            kind = 'rst_short' if partial.startswith(detail) else 'other'
        counts[kind] += 1
        if kind in ('fin', 'other') and bad < 10:
            bad += 1
            say('BAD %d %s after %s' % (run, kind, describe(detail, partial)))
    upstream.close()
    say('RESULT runs=%d %s' % (runs, ' '.join('%s=%d' % item for item in counts.items())))


def describe(detail, partial):
    if isinstance(detail, bytes):
        prefix = 'a prefix of' if partial.startswith(detail) else 'NOT a prefix of'
        return '%d bytes (%s the %d sent)' % (len(detail), prefix, len(partial))
    return detail


if __name__ == '__main__':
    main()
