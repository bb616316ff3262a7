"""`import nereid.compat.neptune as neptune`: the Neptune 1.x/2.x client surface over nereid.

NEPTUNE_PROJECT and NEPTUNE_API_TOKEN are honoured (NEREID_* win when both are set);
NEREID_URL names the server. A Neptune call nereid does not implement raises
NereidUnsupportedError naming the call."""

from __future__ import annotations

import os
from typing import Any

from nereid import management, types, utils  # noqa: F401  (neptune.management, .types, .utils)
from nereid.exceptions import unsupported
from nereid.project import init_project as _init_project
from nereid.run import Run, init_run as _init_run
from nereid.types import File  # noqa: F401

ANONYMOUS_API_TOKEN = ""
__version__ = "1.99.0+nereid"


def _env(kwargs: dict) -> dict:
    if kwargs.get("project") is None and not os.environ.get("NEREID_PROJECT"):
        kwargs["project"] = os.environ.get("NEPTUNE_PROJECT")
    if not kwargs.get("api_token") and not os.environ.get("NEREID_API_TOKEN"):
        kwargs["api_token"] = os.environ.get("NEPTUNE_API_TOKEN") or None
    if kwargs.get("custom_run_id") is None and os.environ.get("NEPTUNE_CUSTOM_RUN_ID"):
        kwargs["custom_run_id"] = os.environ["NEPTUNE_CUSTOM_RUN_ID"]
    if kwargs.get("mode") is None and os.environ.get("NEPTUNE_MODE"):
        kwargs["mode"] = os.environ["NEPTUNE_MODE"]
    return kwargs


def init_run(**kwargs: Any) -> Run:
    # Neptune arguments that change nothing in nereid's model are accepted and dropped;
    # anything else unknown raises (init_run names it).
    for harmless in ("proxies", "fail_on_exception", "monitoring_namespace", "dependencies",
                     "async_lag_threshold", "async_no_progress_threshold"):
        kwargs.pop(harmless, None)
    return _init_run(**_env(kwargs))


def init_project(project: Any = None, api_token: Any = None, mode: str = "read-only", **kw):
    kw.pop("proxies", None)
    args = _env({"project": project, "api_token": api_token})
    return _init_project(args["project"], args["api_token"], mode, **kw)


def init_model(*args: Any, **kwargs: Any):
    raise unsupported("neptune.init_model()", "models are not part of nereid; log to a run")


def init_model_version(*args: Any, **kwargs: Any):
    raise unsupported("neptune.init_model_version()", "log to a run")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise unsupported(f"neptune.{name}")
