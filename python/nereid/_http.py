"""Direct HTTP calls (fetch, runs table, downloads, notebook uploads) with the standard library.

Run writes never come here: they go through the C++ client's spool (nereid._core). The one write
is a notebook checkpoint upload, which is not part of a run. HTTP errors are turned into the same
exception classes the core raises."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Optional

from nereid import exceptions as exc

TIMEOUT_S = 60.0


class Client:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.token = token

    def get(self, path: str, params: Optional[Dict[str, Any]] = None) -> bytes:
        return self._request("GET", path, params)

    def post(self, path: str, params: Optional[Dict[str, Any]], body: bytes,
             content_type: str, timeout: float = TIMEOUT_S) -> bytes:
        return self._request("POST", path, params, body, content_type, timeout)

    def _request(self, method: str, path: str, params: Optional[Dict[str, Any]],
                 body: Optional[bytes] = None, content_type: str = "",
                 timeout: float = TIMEOUT_S) -> bytes:
        q = ""
        if params:
            q = "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        req = urllib.request.Request(self.url + path + q, data=body, method=method)
        if content_type:
            req.add_header("Content-Type", content_type)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            body = e.read()[:2000].decode("utf-8", "replace")
            try:
                err = json.loads(body)["error"]
                message, code = err.get("message", body), err.get("code", "")
            except (ValueError, KeyError, TypeError):
                message, code = body, ""
            raise _http_error(e.code, code, f"{method} {path}: HTTP {e.code}: {message}") from None
        except (urllib.error.URLError, OSError) as e:
            raise exc.UnavailableError(f"cannot reach {self.url}: {e}") from None

    def get_json(self, path: str, params: Optional[Dict[str, Any]] = None) -> Any:
        return json.loads(self.get(path, params))

    def post_json(self, path: str, body: Any) -> Any:
        """A management request (the trash): a JSON body, a JSON answer."""
        return json.loads(self.post(path, None, json.dumps(body).encode(), "application/json"))


def _http_error(status: int, code: str, message: str) -> Exception:
    if status == 404:
        return exc.NotFoundError(message)
    if status in (401, 403):
        return exc.AuthenticationError(message)
    if code == "failed_precondition":  # e.g. deleting runs that are not in the trash
        return exc.NereidValueError(message)
    if status == 409 or code == "type_conflict":
        return exc.NereidTypeError(message)
    if status in (400, 413, 422):
        return exc.NereidValueError(message)
    if status in (429, 502, 503, 504):
        return exc.UnavailableError(message)
    return exc.NereidError(message)


def quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")
