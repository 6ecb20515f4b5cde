"""A TLS peer that is not ours: Python's ssl module (OpenSSL), set up to notice a missing close_notify.

  tls_peer.py client PORT VERSION REQUEST       connect to 127.0.0.1:PORT, send REQUEST (\\r \\n escapes), read to the end
  tls_peer.py server VERSION PEM MODE [N]       listen on 127.0.0.1 (prints READY PORT), accept one connection, then MODE:
      observe            read to the end (how did the client end?)
      close_notify N     send N bytes, then close_notify (unwrap), then close: FIN
      fin N              send N bytes, then FIN without close_notify
      rst N              send N bytes, then RST (SO_LINGER 0)
      require13          (with VERSION 1.2: a handshake our 1.2-only client must fail)
      reply_after_close N  read to the client's close_notify, then send N bytes, close_notify, close

VERSION is 1.2 or 1.3 (both minimum and maximum). Lines printed:
  HANDSHAKE <version>
  CLOSE_NOTIFY <bytes> <FIN|RST|DATA|...>   the peer's close_notify (recv returned b''), then what TCP did
  TRUNCATED <bytes> <FIN|RST|state N>        SSLEOFError, and what TCP did: FIN without close_notify, or a
                                             reset (OpenSSL 3.0 reports a RST during SSL_read as SSLEOFError
                                             too, so the kernel's TCP state tells them apart: CLOSE_WAIT or CLOSE)
  RST <bytes>                                ConnectionResetError
  ERROR <bytes> <reason>                     another SSL error (an alert received, ...)
  SENT <n>                                   the server mode's bytes are out
suppress_ragged_eofs=False: its default (True) reads a FIN without close_notify as a clean b''.
"""
import socket
import ssl
import struct
import sys

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def context(side, version, pem=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT if side == "client" else ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = VERSIONS[version]
    if side == "client":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # a self-signed certificate made by the test
    else:
        ctx.load_cert_chain(pem)
    return ctx


def read_to_end(s):
    n = 0
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            n += len(d)
    except ssl.SSLEOFError:
        state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
        print("TRUNCATED", n, {8: "FIN", 7: "RST"}.get(state, "state %d" % state))  # TCP_CLOSE_WAIT, TCP_CLOSE
        return
    except ConnectionResetError:
        print("RST", n)
        return
    except ssl.SSLError as e:
        print("ERROR", n, e.reason or e)
        return
    # close_notify: answer it, then see how TCP ends
    try:
        raw = s.unwrap()
    except (ssl.SSLError, OSError) as e:
        print("CLOSE_NOTIFY", n, "UNWRAP_FAILED", type(e).__name__)
        return
    try:
        d = raw.recv(1)
        print("CLOSE_NOTIFY", n, "FIN" if not d else "DATA")
    except ConnectionResetError:
        print("CLOSE_NOTIFY", n, "RST")
    raw.close()


def client(port, version, request):
    raw = socket.create_connection(("127.0.0.1", int(port)))
    s = context("client", version).wrap_socket(raw, suppress_ragged_eofs=False)
    print("HANDSHAKE", s.version())
    s.sendall(request.encode().decode("unicode_escape").encode("latin-1"))
    read_to_end(s)


def server(version, pem, mode, n=0):
    ctx = context("server", "1.3" if mode == "require13" else version, pem)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    print("READY", listener.getsockname()[1])
    conn, _ = listener.accept()
    try:
        s = ctx.wrap_socket(conn, server_side=True, suppress_ragged_eofs=False)
    except (ssl.SSLError, OSError) as e:
        print("HANDSHAKE_FAILED", getattr(e, "reason", None) or type(e).__name__)
        return
    print("HANDSHAKE", s.version())
    n = int(n)
    if mode == "observe":
        read_to_end(s)
        return
    if mode == "reply_after_close":
        got = 0
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += len(d)
        print("RECEIVED", got)
        try:
            s.sendall(b"y" * n)
            raw = s.unwrap()
            raw.close()
            print("REPLIED", n)
        except (ssl.SSLError, OSError) as e:
            print("REPLY_FAILED", type(e).__name__, e)
        return
    s.sendall(b"x" * n)
    print("SENT", n)
    if mode == "close_notify":
        raw = s.unwrap()  # sends close_notify, waits for the client's
        raw.close()
    elif mode == "fin":
        s.shutdown(socket.SHUT_WR)  # drops the TLS layer: FIN without close_notify
        sys.stdin.readline()
    elif mode == "rst":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    print("DONE")


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(*sys.argv[2:5])
    else:
        server(*sys.argv[2:])
