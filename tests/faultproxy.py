#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 proxy for tests: it sits between a client and the real server and
breaks things on purpose (refused connections, black holes, delays, cut or dropped responses,
429 and 503 storms). Python 3 standard library only, so C++ tests can run it too.

From pytest:

    from faultproxy import FaultProxy
    with FaultProxy(target_port=server_port) as fp:
        client_url = fp.url                      # give this to the client under test
        fp.set_mode("drop_after_commit", count=1, path="/batches")
        ...
        assert fp.counters()["drop_after_commit"] == 1

From a shell or a C++ test (prints one line "faultproxy listen=PORT control=CPORT", then serves
until SIGTERM/SIGINT):

    python3 tests/faultproxy.py --listen 0 --target 127.0.0.1:4870 --control-port 0
    curl -X POST 'http://127.0.0.1:CPORT/mode?mode=429&retry_after=2&count=5'
    curl http://127.0.0.1:CPORT/counters
    curl -X POST 'http://127.0.0.1:CPORT/target?port=4871'    # the server restarted elsewhere

Control endpoints (query string or a JSON object body, answers JSON):
    GET  /state        current rule, target and counters
    GET  /counters     counters only
    POST /mode         mode=..., optional count=N, path=REGEX, method=GET|POST..., delay=SECONDS,
                       retry_after=SECONDS, cut_bytes=N (see MODES)
    POST /reset        counters to zero
    POST /target       host=..., port=N: forward to another address from now on

Modes (a rule applies to requests whose target matches `path` (re.search) and `method`, for the
next `count` such requests, then the proxy goes back to "pass"; other requests pass):
    pass               forward the request, relay the response
    refuse             stop listening (clients get ECONNREFUSED) and reset open connections;
                       connection level, so `count`, `path` and `method` do not apply
    reset              accept each new connection, then reset it (RST) before reading anything;
                       `count` counts connections
    blackhole          read the request, never answer, keep the connection open
    delay              wait `delay` seconds (default 1), then forward as "pass"
    cut                forward, read the whole response (the server has acted on the request),
                       send the client only its first `cut_bytes` bytes (default: half), then close
    429                answer 429 with `Retry-After: retry_after` (default 1) without forwarding
    503                answer 503 (with Retry-After if retry_after is given) without forwarding
    drop_after_commit  forward, read the whole response, close the client connection without
                       sending any of it

Counters: "connections", "requests" (every request read), and one per mode: how many requests
(connections for refuse/reset) were treated that way. Thread-safe: one thread per connection,
state under one lock.
"""

import argparse
import json
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("pass", "refuse", "reset", "blackhole", "delay", "cut", "429", "503",
         "drop_after_commit")
MAX_HEADER_BYTES = 1 << 20


class _Closed(Exception):
    """The peer closed (or reset) the connection."""


class _Rule:
    def __init__(self, mode="pass", count=None, path=None, method=None, delay=None,
                 retry_after=None, cut_bytes=None):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; modes: {', '.join(MODES)}")
        self.mode = mode
        self.remaining = None if count is None else int(count)
        self.path = path
        self.path_re = re.compile(path) if path else None
        self.method = method.upper() if method else None
        self.delay = 1.0 if delay is None else float(delay)
        self.retry_after = retry_after
        self.cut_bytes = None if cut_bytes is None else int(cut_bytes)

    def matches(self, method, target):
        if self.method and method != self.method:
            return False
        return self.path_re is None or self.path_re.search(target) is not None

    def describe(self):
        return {"mode": self.mode, "remaining": self.remaining, "path": self.path,
                "method": self.method, "delay": self.delay, "retry_after": self.retry_after,
                "cut_bytes": self.cut_bytes}


def _kill(sock):
    """Breaks a connection another thread may be blocked on: linger 0 so that the final close
    sends an RST, shutdown so that a blocked recv or send in the owning thread returns now."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _rst_close(sock):
    """Closes with an RST rather than a FIN, as a crashed or firewalled peer would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Reader:
    """Buffered reads of HTTP/1.1 messages from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except OSError as e:
            raise _Closed(str(e))
        if not data:
            raise _Closed("eof")
        self.buf += data

    def head(self):
        """Start line and headers, raw bytes including the blank line."""
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head, self.buf = self.buf[:i + 4], self.buf[i + 4:]
                return head
            if len(self.buf) > MAX_HEADER_BYTES:
                raise _Closed("headers too large for the proxy")
            self._fill()

    def exactly(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        i = self.buf.index(b"\r\n")
        out, self.buf = self.buf[:i + 2], self.buf[i + 2:]
        return out

    def chunked(self):
        """A chunked body, raw (re-sent as is)."""
        out = b""
        while True:
            size_line = self.line()
            out += size_line
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:  # trailers, up to the blank line
                    t = self.line()
                    out += t
                    if t == b"\r\n":
                        return out
            out += self.exactly(size + 2)

    def until_close(self):
        while True:
            try:
                self._fill()
            except _Closed:
                out, self.buf = self.buf, b""
                return out


def _parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    start = lines[0]
    headers = []
    for ln in lines[1:]:
        if not ln:
            continue
        name, _, value = ln.partition(":")
        headers.append((name.strip(), value.strip()))
    return start, headers


def _header(headers, name):
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def _read_body(reader, headers, has_body=True):
    if not has_body:
        return b"", False
    te = _header(headers, "Transfer-Encoding")
    if te and "chunked" in te.lower():
        return reader.chunked(), False
    cl = _header(headers, "Content-Length")
    if cl is not None:
        return reader.exactly(int(cl)), False
    return None, True  # delimited by close (responses only)


class FaultProxy:
    """The proxy. Construct, then `start()` (or use as a context manager). All methods are
    thread-safe; `set_mode` takes effect for the next request read on any connection."""

    def __init__(self, target_port, target_host="127.0.0.1", listen_port=0, control_port=0,
                 listen_host="127.0.0.1"):
        self._lock = threading.Lock()
        self._target = (target_host, int(target_port))
        self._listen_host = listen_host
        self._listen_port = int(listen_port)
        self._control_port_arg = control_port
        self._rule = _Rule()
        self._counters = {}
        self._conns = {}  # open client socket -> its upstream socket or None
        self._listener = None
        self._accept_thread = None
        self._stopping = False
        self._control = None
        self.port = None
        self.control_port = None
        self._reset_counters_locked()

    # --- lifecycle ---

    def start(self):
        self._listen()
        if self._control_port_arg is not None:
            self._start_control(int(self._control_port_arg))
        return self

    def stop(self):
        with self._lock:
            self._stopping = True
            listener, self._listener = self._listener, None
            conns = [s for pair in self._conns.items() for s in pair if s is not None]
        if listener is not None:
            _close_listener(listener)
        for c in conns:
            _kill(c)
        if self._accept_thread is not None:
            self._accept_thread.join(5)
        if self._control is not None:
            self._control.shutdown()
            self._control.server_close()
            self._control = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def control_url(self):
        return f"http://127.0.0.1:{self.control_port}" if self.control_port else None

    # --- control ---

    def set_mode(self, mode, count=None, path=None, method=None, delay=None, retry_after=None,
                 cut_bytes=None):
        """Switches the fault rule (see the module docstring). `count` None means until the next
        set_mode. Raises ValueError for an unknown mode."""
        rule = _Rule(mode, count, path, method, delay, retry_after, cut_bytes)
        with self._lock:
            self._rule = rule
            listening = self._listener is not None
        if mode == "refuse":
            with self._lock:
                listener, self._listener = self._listener, None
                conns = [s for pair in self._conns.items() for s in pair if s is not None]
            if listener is not None:
                _close_listener(listener)
            for c in conns:
                _kill(c)
        elif not listening and not self._stopping:
            self._listen()

    def pass_through(self):
        self.set_mode("pass")

    def set_target(self, port, host=None):
        """Forwards to another address from now on (e.g. a restarted server on a new port).
        Connections already open keep their old upstream until they close."""
        with self._lock:
            self._target = (host or self._target[0], int(port))

    def counters(self):
        with self._lock:
            return dict(self._counters)

    def reset_counters(self):
        with self._lock:
            self._reset_counters_locked()

    def state(self):
        with self._lock:
            return {"rule": self._rule.describe(), "target": f"{self._target[0]}:{self._target[1]}",
                    "listen": self.port, "counters": dict(self._counters)}

    def _reset_counters_locked(self):
        self._counters = {m: 0 for m in MODES}
        self._counters.update(connections=0, requests=0)

    # --- listening ---

    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # After "refuse" the same port must come back, so clients keep their URL.
        s.bind((self._listen_host, self.port if self.port else self._listen_port))
        s.listen(128)
        with self._lock:
            self._listener = s
            self.port = s.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, args=(s,), daemon=True,
                                               name="faultproxy-accept")
        self._accept_thread.start()

    def _accept_loop(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # listener closed (refuse or stop)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._counters["connections"] += 1
                rule = self._rule
                if rule.mode == "reset" and rule.remaining != 0:
                    self._counters["reset"] += 1
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rule = _Rule()
                    reset = True
                elif self._listener is not listener:
                    # Accepted just as "refuse" or stop closed the listener, after they took
                    # their snapshot of open connections: kill it here, as they would have.
                    reset = True
                else:
                    reset = False
                    self._conns[client] = None
            if reset:
                _rst_close(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True,
                             name="faultproxy-conn").start()

    # --- one client connection ---

    def _take_rule(self, method, target):
        """The treatment of one request; consumes one unit of the rule's count if it applies."""
        with self._lock:
            self._counters["requests"] += 1
            rule = self._rule
            if rule.mode in ("pass", "refuse", "reset") or not rule.matches(method, target) \
                    or rule.remaining == 0:
                self._counters["pass"] += 1
                return _Rule()
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rule = _Rule()
            self._counters[rule.mode] += 1
            return rule

    def _serve(self, client):
        upstream = None
        up_reader = None
        reader = _Reader(client)
        try:
            while True:
                head = reader.head()
                start, headers = _parse_head(head)
                method, target = (start.split(" ") + ["", ""])[:2]
                if _header(headers, "Expect") and "100-continue" in _header(headers, "Expect"):
                    # Answer it here: the body is needed before the fault is chosen, and
                    # forwarding the Expect would make the server send a 100 we would have to
                    # relay.
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    headers = [(k, v) for k, v in headers if k.lower() != "expect"]
                    head = (start + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
                            + "\r\n").encode("latin-1")
                body, until_close = _read_body(reader, headers)
                if until_close:
                    body = b""  # a request without Content-Length or chunking has no body
                rule = self._take_rule(method, target)
                mode = rule.mode

                if mode == "blackhole":
                    reader.until_close()  # hold the connection; never answer
                    return
                if mode in ("429", "503"):
                    client.sendall(_canned(mode, rule.retry_after))
                    continue
                if mode == "delay":
                    time.sleep(rule.delay)

                if upstream is None or _peer_closed(upstream):
                    if upstream is not None:
                        upstream.close()
                    with self._lock:
                        target_addr = self._target
                    try:
                        upstream = socket.create_connection(target_addr, timeout=None)
                    except OSError:
                        _rst_close(client)  # the server is down: look like it
                        return
                    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    up_reader = _Reader(upstream)
                    with self._lock:
                        if client not in self._conns:  # killed (refuse/stop) meanwhile
                            return
                        self._conns[client] = upstream
                upstream.sendall(head + body)
                response = _read_response(up_reader, method)
                if response is None:
                    _rst_close(client)
                    return
                raw, close_after = response

                if mode == "drop_after_commit":
                    _rst_close(client)
                    return
                if mode == "cut":
                    n = rule.cut_bytes if rule.cut_bytes is not None else len(raw) // 2
                    client.sendall(raw[:max(0, min(n, len(raw) - 1))])
                    _rst_close(client)
                    return
                client.sendall(raw)
                if close_after:
                    return
        except (_Closed, OSError, ValueError):
            return
        finally:
            with self._lock:
                self._conns.pop(client, None)
            try:
                client.close()
            except OSError:
                pass
            if upstream is not None:
                upstream.close()


def _read_response(reader, method):
    """One whole response from the server: (raw bytes, close the client after it), or None if the
    server closed or reset before answering."""
    try:
        head = reader.head()
        start, headers = _parse_head(head)
        while start.split(" ")[1:2] and start.split(" ")[1].startswith("1"):
            head = reader.head()  # drop interim responses; we never forward Expect
            start, headers = _parse_head(head)
        status = int(start.split(" ")[1])
        has_body = method != "HEAD" and status not in (204, 304)
        body, until_close = _read_body(reader, headers, has_body)
        if until_close:
            body = reader.until_close()
        conn = (_header(headers, "Connection") or "").lower()
        return head + body, until_close or "close" in conn
    except _Closed:
        return None


def _peer_closed(sock):
    """True if a kept-alive upstream connection was closed by the server while idle."""
    try:
        sock.setblocking(False)
        try:
            data = sock.recv(1, socket.MSG_PEEK)
            return data == b""
        except BlockingIOError:
            return False
        finally:
            sock.setblocking(True)
    except OSError:
        return True


def _close_listener(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()


def _canned(mode, retry_after):
    if mode == "429":
        status, code = "429 Too Many Requests", "rate_limited"
        retry_after = 1 if retry_after is None else retry_after
    else:
        status, code = "503 Service Unavailable", "unavailable"
    body = json.dumps({"error": {"code": code,
                                 "message": f"injected by faultproxy ({mode})"}}).encode()
    head = (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n")
    if retry_after is not None:
        head += f"Retry-After: {retry_after}\r\n"
    return (head + "\r\n").encode() + body


# --- the control endpoint ---

def _start_control_server(proxy, port):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _params(self):
            url = urllib.parse.urlsplit(self.path)
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                body = json.loads(self.rfile.read(n) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("body must be a JSON object")
                params.update({k: v for k, v in body.items() if v is not None})
            return url.path, params

        def _reply(self, status, obj):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if path == "/state":
                self._reply(200, proxy.state())
            elif path == "/counters":
                self._reply(200, proxy.counters())
            else:
                self._reply(404, {"error": "unknown endpoint"})

        def do_POST(self):
            try:
                path, p = self._params()
                if path == "/mode":
                    proxy.set_mode(p.get("mode", "pass"), count=p.get("count"),
                                   path=p.get("path"), method=p.get("method"),
                                   delay=p.get("delay"), retry_after=p.get("retry_after"),
                                   cut_bytes=p.get("cut_bytes"))
                elif path == "/reset":
                    proxy.reset_counters()
                elif path == "/target":
                    proxy.set_target(int(p["port"]), p.get("host"))
                else:
                    self._reply(404, {"error": "unknown endpoint"})
                    return
            except (ValueError, KeyError, re.error) as e:
                self._reply(400, {"error": str(e)})
                return
            self._reply(200, proxy.state())

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="faultproxy-control").start()
    return server


def _start_control(self, port):
    self._control = _start_control_server(self, port)
    self.control_port = self._control.server_address[1]


FaultProxy._start_control = _start_control


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fault-injecting HTTP/1.1 proxy for tests.")
    ap.add_argument("--listen", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    ap.add_argument("--target", required=True, help="HOST:PORT of the server")
    ap.add_argument("--control-port", type=int, default=0,
                    help="port of the HTTP control endpoint (0: a free one)")
    ap.add_argument("--mode", default="pass", choices=MODES, help="initial mode")
    args = ap.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    proxy = FaultProxy(int(port), host or "127.0.0.1", args.listen, args.control_port)
    proxy.start()
    if args.mode != "pass":
        proxy.set_mode(args.mode)
    print(f"faultproxy listen={proxy.port} control={proxy.control_port}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
