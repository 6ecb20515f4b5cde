#!/usr/bin/env python3
"""A TCP peer for tcpscope's connection tests, run as a separate process.

It connects to 127.0.0.1:PORT and reports on stdout, one line per event:

  READY <local port>          connected
  SENT <n>                    --send: all n pattern bytes were written (sendall returned)
  EOF <n> <sha256>            it read n bytes, then end of stream (the other side sent FIN)
  RST <n> <sha256>            it read n bytes, then "connection reset" (the other side sent RST)
  STATE <tcp state> <errno>   --hold: the socket's TCP state (TCP_INFO) and SO_ERROR afterwards
  CLOSED                      it closed its socket (FIN: everything sent to it was read)
  RESET                       --reset: it closed its socket with SO_LINGER {1,0} (RST) without reading

The pattern is byte i = i % 251, the same as dev.tcpscope.testing.Patterns.
"""
import argparse
import hashlib
import socket
import struct
import sys

TCP_STATES = {1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2',
              6: 'TIME_WAIT', 7: 'CLOSE', 8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN', 11: 'CLOSING'}
CHUNK = 251 * 1024


def say(line):
    print(line, flush=True)


def send_pattern(sock, total):
    block = bytes(range(251)) * 1024  # CHUNK bytes; starts at offset 0 of the pattern every time
    sent = 0
    while sent < total:
        n = min(CHUNK, total - sent)
        sock.sendall(block[:n])
        sent += n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('port', type=int)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--rcvbuf', type=int, help='SO_RCVBUF before connecting (a small window)')
    parser.add_argument('--send', type=int, default=0, help='first write this many pattern bytes, blocking')
    parser.add_argument('--wait', action='store_true', help='read a line from stdin before reading the socket')
    parser.add_argument('--hold', action='store_true',
                        help='after the end of input, read a line from stdin, report STATE, then close')
    parser.add_argument('--reset', action='store_true',
                        help="after --wait's line, reset (SO_LINGER {1,0} and close) without reading")
    args = parser.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if args.rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    sock.connect((args.host, args.port))
    say('READY %d' % sock.getsockname()[1])

    if args.send:
        send_pattern(sock, args.send)
        say('SENT %d' % args.send)

    if args.wait:
        sys.stdin.readline()

    if args.reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        sock.close()
        say('RESET')
        return

    digest = hashlib.sha256()
    count = 0
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                end = 'EOF'
                break
            digest.update(data)
            count += len(data)
    except ConnectionResetError:
        end = 'RST'
    say('%s %d %s' % (end, count, digest.hexdigest()))

    if args.hold:
        sys.stdin.readline()
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        say('STATE %s %d' % (TCP_STATES.get(info[0], str(info[0])), error))

    sock.close()
    say('CLOSED')


if __name__ == '__main__':
    main()
