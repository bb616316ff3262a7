"""The fault proxy (tests/faultproxy.py) against the real server: each mode does what it says, and
the server's exactly-once ingest holds when responses are lost after commit."""

import errno
import json
import socket
import subprocess
import sys
import time
import os

import pytest
import requests

from conftest import new_writer
from faultproxy import FaultProxy

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def proxy(server):
    port = int(server.base_url.rsplit(":", 1)[1])
    with FaultProxy(target_port=port) as fp:
        yield fp


def session(server):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + server.token
    return s


def post_batch(s, base, run, writer, seq, values, timeout=10):
    body = {"writerId": writer, "sequence": str(seq),
            "operations": [{"path": "loss", "appendFloats": {"values": values}}]}
    return s.post(f"{base}/api/v1/runs/{run}/batches", data=json.dumps(body),
                  headers={"Content-Type": "application/json"}, timeout=timeout)


def health(base, timeout=5):
    return requests.get(base + "/api/v1/health", timeout=timeout)


def test_pass_forwards_requests_and_responses(server, proxy):
    s = session(server)
    run = s.post(proxy.url + "/api/v1/projects/default/sandbox/runs", json={"name": "via proxy"},
                 timeout=10).json()["id"]
    for seq in (1, 2, 3):  # one kept-alive connection, several requests
        r = post_batch(s, proxy.url, run, "w1", seq, [float(seq)])
        assert r.status_code == 200 and r.json()["duplicate"] is False
    assert server.series(run, "loss")["values"] == [1.0, 2.0, 3.0]
    c = proxy.counters()
    assert c["pass"] == 4 and c["requests"] == 4 and c["connections"] == 1


def test_refuse_stops_listening_and_comes_back_on_the_same_port(server, proxy):
    assert health(proxy.url).status_code == 200
    port = proxy.port
    proxy.set_mode("refuse")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    with pytest.raises(requests.ConnectionError):
        health(proxy.url)
    proxy.pass_through()
    assert proxy.port == port
    assert health(proxy.url).status_code == 200


def test_refuse_breaks_open_keep_alive_connections(server, proxy):
    s = requests.Session()
    assert s.get(proxy.url + "/api/v1/health", timeout=5).status_code == 200
    raw = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    proxy.set_mode("refuse")
    # The open connection is closed by the proxy: the peer sees EOF or a reset, never an answer.
    try:
        raw.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.recv(100) == b""
    except (ConnectionResetError, BrokenPipeError):
        pass
    proxy.pass_through()


def test_reset_next_connection_only(server, proxy):
    proxy.set_mode("reset", count=1)
    with pytest.raises(requests.ConnectionError):
        health(proxy.url)
    assert health(proxy.url).status_code == 200
    assert proxy.counters()["reset"] == 1


def test_blackhole_never_answers_then_count_runs_out(server, proxy):
    proxy.set_mode("blackhole", count=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        health(proxy.url, timeout=1.0)
    assert health(proxy.url).status_code == 200
    c = proxy.counters()
    assert c["blackhole"] == 1 and c["pass"] == 1


def test_delay_holds_each_request(server, proxy):
    proxy.set_mode("delay", delay=0.4, count=2)
    t0 = time.monotonic()
    for _ in range(2):
        assert health(proxy.url).status_code == 200
    assert time.monotonic() - t0 >= 0.8  # a functional lower bound: the delay was applied
    assert proxy.counters()["delay"] == 2


def test_429_and_503_are_answered_without_forwarding(server, proxy):
    s = session(server)
    run = server.create_run(name="rate limited")["id"]
    proxy.set_mode("429", retry_after=7, count=2, path="/batches$")
    for seq in (1, 2):
        r = post_batch(s, proxy.url, run, "w", seq, [1.0])
        assert r.status_code == 429 and r.headers["Retry-After"] == "7"
        assert r.json()["error"]["code"] == "rate_limited"
    assert "loss" not in server.fields(run)  # the server never saw them
    proxy.set_mode("503", count=1)
    r = post_batch(s, proxy.url, run, "w", 1, [1.0])
    assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
    assert "loss" not in server.fields(run)
    r = post_batch(s, proxy.url, run, "w", 1, [1.0])  # count used up: passes
    assert r.status_code == 200
    c = proxy.counters()
    assert (c["429"], c["503"], c["pass"]) == (2, 1, 1)


def test_drop_after_commit_then_retry_is_applied_once(server, proxy):
    s = session(server)
    run = server.create_run(name="lost ack")["id"]
    writer = new_writer()
    values = [0.1, 1e-300, -2.5, 3.0000000000000004]
    proxy.set_mode("drop_after_commit", count=1, path="/batches$", method="POST")
    assert health(proxy.url).status_code == 200  # not matched: passes
    with pytest.raises(requests.ConnectionError):
        post_batch(s, proxy.url, run, writer, 1, values)
    # The server committed it although the client never heard.
    assert server.series(run, "loss")["values"] == values
    r = post_batch(s, proxy.url, run, writer, 1, values)  # the client's retry
    assert r.status_code == 200 and r.json()["duplicate"] is True
    assert server.series(run, "loss")["values"] == values
    assert proxy.counters()["drop_after_commit"] == 1


def test_cut_mid_response_then_retry_is_applied_once(server, proxy):
    s = session(server)
    run = server.create_run(name="cut")["id"]
    writer = new_writer()
    proxy.set_mode("cut", count=1, path="/batches$")
    with pytest.raises(requests.exceptions.RequestException):
        r = post_batch(s, proxy.url, run, writer, 1, [5.0, 6.0])
        r.json()  # a cut inside the body can surface here
    r = post_batch(s, proxy.url, run, writer, 1, [5.0, 6.0])
    assert r.status_code == 200 and r.json()["duplicate"] is True
    assert server.series(run, "loss")["values"] == [5.0, 6.0]
    assert proxy.counters()["cut"] == 1


def test_cut_after_a_given_number_of_bytes(server, proxy):
    proxy.set_mode("cut", cut_bytes=12, count=1)
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                break
            got += data
    except ConnectionResetError:
        pass
    assert got == b"HTTP/1.1 200"


def test_expect_100_continue_and_chunked_bodies_pass(server, proxy):
    run = server.create_run(name="expect")["id"]
    body = json.dumps({"writerId": "w", "sequence": "1", "operations": [
        {"path": "loss", "appendFloats": {"values": [float(i) for i in range(20000)]}}]}).encode()
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    sock.sendall((f"POST /api/v1/runs/{run}/batches HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {server.token}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode())
    assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    sock.sendall(body)
    f = sock.makefile("rb")
    assert f.readline().startswith(b"HTTP/1.1 200")
    # requests sends an iterator as a chunked body.
    body2 = json.dumps({"writerId": "w", "sequence": "2", "operations": [
        {"path": "loss", "appendFloats": {"values": [-1.0] * 5000}}]}).encode()
    chunks = (body2[i:i + 1000] for i in range(0, len(body2), 1000))
    r = session(server).post(f"{proxy.url}/api/v1/runs/{run}/batches", data=chunks,
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["duplicate"] is False
    assert len(server.series(run, "loss")["values"]) == 25000


def test_set_target_follows_a_restarted_server(start_server):
    srv = start_server()
    port = int(srv.base_url.rsplit(":", 1)[1])
    with FaultProxy(target_port=port) as fp:
        run = srv.create_run(name="restart")["id"]
        s = session(srv)
        assert post_batch(s, fp.url, run, "w", 1, [1.0]).status_code == 200
        srv.kill9()
        with pytest.raises(requests.exceptions.RequestException):
            post_batch(s, fp.url, run, "w", 2, [2.0])  # server down: looks unreachable
        srv.start()  # a new free port
        fp.set_target(int(srv.base_url.rsplit(":", 1)[1]))
        s = session(srv)
        assert post_batch(s, fp.url, run, "w", 2, [2.0]).status_code == 200
        assert srv.series(run, "loss")["values"] == [1.0, 2.0]


def test_cli_and_control_endpoint(server):
    port = int(server.base_url.rsplit(":", 1)[1])
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "faultproxy.py"), "--listen", "0",
                             "--target", f"127.0.0.1:{port}", "--control-port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        fields = dict(kv.split("=") for kv in line.split()[1:])
        url = f"http://127.0.0.1:{fields['listen']}"
        ctl = f"http://127.0.0.1:{fields['control']}"
        assert health(url).status_code == 200
        r = requests.post(ctl + "/mode?mode=503&count=1&retry_after=3", timeout=5)
        assert r.status_code == 200 and r.json()["rule"]["mode"] == "503"
        r = health(url)
        assert r.status_code == 503 and r.headers["Retry-After"] == "3"
        r = requests.post(ctl + "/mode", json={"mode": "429", "path": "/nothing-matches"},
                          timeout=5)
        assert r.status_code == 200
        assert health(url).status_code == 200
        c = requests.get(ctl + "/counters", timeout=5).json()
        assert (c["503"], c["pass"], c["429"]) == (1, 2, 0)
        assert requests.post(ctl + "/mode?mode=bogus", timeout=5).status_code == 400
        requests.post(ctl + "/mode?mode=refuse", timeout=5)
        with pytest.raises(OSError) as e:
            socket.create_connection(("127.0.0.1", int(fields["listen"])), timeout=5)
        assert e.value.errno == errno.ECONNREFUSED
        requests.post(ctl + "/mode?mode=pass", timeout=5)
        assert health(url).status_code == 200
        assert requests.post(ctl + "/reset", timeout=5).json()["counters"]["pass"] == 0
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
