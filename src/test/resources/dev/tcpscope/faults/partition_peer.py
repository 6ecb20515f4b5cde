#!/usr/bin/env python3
"""The peer of the fault suite's partition rows, run inside a network namespace.

Usage: partition_peer.py HOST COUNT. It listens on HOST (port 0), prints LISTENING <port>, accepts
COUNT connections (ACCEPTED <count>), reads each on its own thread and, when a connection ends,
prints END <i> EOF|RST <bytes read>. Commands on stdin, one a line:
  poke   send one byte on every connection still open (POKED <i> ok|<error>), so that a peer
         whose socket is gone answers with RST, which the connection's reader then reports.
"""
import socket
import sys
import threading


LOCK = threading.Lock()


def say(line):
    # One write per line under a lock: print() from two threads can interleave a line and a newline.
    with LOCK:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


def reader(i, conn):
    count = 0
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                say('END %d EOF %d' % (i, count))
                return
            count += len(data)
    except ConnectionResetError:
        say('END %d RST %d' % (i, count))
    except OSError as e:
        say('END %d ERROR:%s %d' % (i, e.__class__.__name__, count))


def main():
    host, count = sys.argv[1], int(sys.argv[2])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(count)
    say('LISTENING %d' % server.getsockname()[1])
    conns = []
    for i in range(count):
        conn, _ = server.accept()
        conns.append(conn)
        threading.Thread(target=reader, args=(i, conn), daemon=True).start()
    say('ACCEPTED %d' % count)
    for line in sys.stdin:
        if line.strip() == 'poke':
            for i, conn in enumerate(conns):
                try:
                    conn.send(b'!')
                    say('POKED %d ok' % i)
                except OSError as e:
                    say('POKED %d %s' % (i, e.__class__.__name__))


if __name__ == '__main__':
    main()
