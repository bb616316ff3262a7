"""The embedded web UI as the real server serves it: SPA fallback, caching headers, 304, HEAD.

The browser tests (web/e2e, ctest web_e2e) cover what the pages do; this covers the bytes on the
wire through the HTTP stack.
"""

import re

import requests

from conftest import assert_error


def test_root_and_app_routes_serve_index_html(server):
    for path in ["/", "/p/default/sandbox", "/runs/SAND-1", "/nope/at/all"]:
        r = requests.get(server.url(path), timeout=30)  # no token: the page itself is public
        assert r.status_code == 200, path
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert r.headers["Cache-Control"] == "no-cache"
        assert '<div id="app">' in r.text


def test_hashed_bundle_is_immutable_and_revalidates_to_304(server):
    index = requests.get(server.url("/"), timeout=30).text
    js = re.search(r'src="(/assets/[^"]+\.js)"', index).group(1)
    r = requests.get(server.url(js), timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = r.headers["ETag"]
    again = requests.get(server.url(js), headers={"If-None-Match": etag}, timeout=30)
    assert again.status_code == 304
    assert again.content == b""
    head = requests.head(server.url(js), timeout=30)
    assert head.status_code == 200
    # requests asks for gzip and inflates it: HEAD announces the bytes on the wire, the gzip copy.
    assert head.headers["Content-Encoding"] == "gzip"
    assert int(head.headers["Content-Length"]) == int(r.headers["Content-Length"])
    assert int(r.headers["Content-Length"]) < len(r.content) / 2


def test_assets_go_gzipped_only_when_accepted(server):
    index = requests.get(server.url("/"), timeout=30).text
    js = re.search(r'src="(/assets/[^"]+\.js)"', index).group(1)
    gz = requests.get(server.url(js), headers={"Accept-Encoding": "gzip"}, timeout=30)
    plain = requests.get(server.url(js), headers={"Accept-Encoding": "identity"}, timeout=30)
    assert gz.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert gz.headers["Vary"] == plain.headers["Vary"] == "Accept-Encoding"
    assert gz.headers["ETag"] != plain.headers["ETag"]
    assert gz.content == plain.content  # requests inflated the gzip copy
    assert int(plain.headers["Content-Length"]) == len(plain.content)


def test_missing_bundle_and_api_paths_stay_json_404(server):
    assert_error(requests.get(server.url("/assets/index-gone.js"), timeout=30), 404, "not_found")
    assert_error(server.get("/api/v1/nope"), 404, "not_found")


def test_ui_paths_answer_only_get_and_head(server):
    r = requests.post(server.url("/p/default/sandbox"), data=b"x", timeout=30)
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET, HEAD"
