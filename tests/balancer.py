"""A round-robin HTTP load balancer for tests: each request goes to the next server in turn, so
one client's consecutive batches land on different servers. Like nginx's
`proxy_next_upstream error`, a request whose server refuses the connection goes to the next one
(it was never sent, so trying elsewhere is safe). `cut_every=N` cuts the client's connection after
every Nth POST to a /batches URL once the server has answered: the batch is committed but the
client never hears so, and its retry lands on another server.
"""

import itertools
import socket
import threading

from faultproxy import _Closed, _parse_head, _read_body, _read_response, _Reader, _rst_close


class Balancer:
    def __init__(self, ports, cut_every=0):
        self.ports = list(ports)
        self.cut_every = cut_every
        self.counts = {p: 0 for p in self.ports}  # requests answered per server
        self.cuts = 0
        self._next = itertools.count()
        self._batches = itertools.count(1)
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self._stopped = True
        self._listener.close()

    def _accept(self):
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _connect(self):
        start = next(self._next)
        for i in range(len(self.ports)):
            port = self.ports[(start + i) % len(self.ports)]
            try:
                return port, socket.create_connection(("127.0.0.1", port), timeout=120)
            except OSError:
                continue
        return None, None

    def _serve(self, client):
        reader = _Reader(client)
        try:
            while True:
                head = reader.head()
                start, headers = _parse_head(head)
                method, target = (start.split(" ") + ["", ""])[:2]
                body, until_close = _read_body(reader, headers)
                if until_close:
                    body = b""
                port, upstream = self._connect()
                if upstream is None:
                    _rst_close(client)
                    return
                try:
                    upstream.sendall(head + body)
                    response = _read_response(_Reader(upstream), method)
                finally:
                    upstream.close()
                if response is None:  # the server died mid-request
                    _rst_close(client)
                    return
                raw, close_after = response
                with self._lock:
                    self.counts[port] += 1
                cut = False
                if self.cut_every and method == "POST" and "/batches" in target:
                    cut = next(self._batches) % self.cut_every == 0
                if cut:
                    with self._lock:
                        self.cuts += 1
                    _rst_close(client)
                    return
                client.sendall(raw)
                if close_after:
                    return
        except (_Closed, OSError, ValueError):
            return
        finally:
            try:
                client.close()
            except OSError:
                pass
