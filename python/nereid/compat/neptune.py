"""`import nereid.compat.neptune as neptune`: the Neptune 1.x/2.x client surface over nereid.

NEPTUNE_PROJECT and NEPTUNE_API_TOKEN are honoured (NEREID_* win when both are set);
NEREID_URL names the server. A Neptune call nereid does not implement raises
NereidUnsupportedError naming the call."""

from __future__ import annotations

import importlib.metadata
import os
from typing import Any, Optional

from nereid import management, types, utils  # noqa: F401  (neptune.management, .types, .utils)
from nereid.exceptions import NereidTypeError, unsupported
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
    """neptune.init_run: nereid.init_run plus Neptune's `dependencies` ("infer", or the path of
    a requirements file), recorded as the file source_code/requirements. Neptune arguments whose
    effect nereid gives anyway are accepted (fail_on_exception=True, monitoring_namespace=
    "monitoring", the async_* thresholds without their callbacks); any other value of them, and
    any unknown argument, raises NereidUnsupportedError naming it."""
    for harmless in ("async_lag_threshold", "async_no_progress_threshold"):
        kwargs.pop(harmless, None)
    if kwargs.pop("fail_on_exception", True) is not True:
        raise unsupported("neptune.init_run(fail_on_exception=False)",
                          "an uncaught exception always marks the run failed")
    _no_proxies("neptune.init_run", kwargs)
    namespace = kwargs.pop("monitoring_namespace", None)
    if namespace not in (None, "monitoring"):
        raise unsupported(f"neptune.init_run(monitoring_namespace={namespace!r})",
                          "automatic capture always goes under monitoring/")
    requirements = _requirements(kwargs.pop("dependencies", None))
    run = _init_run(**_env(kwargs))
    if requirements is not None and run.mode != "read-only":
        run["source_code/requirements"].upload(requirements)
    return run


def _requirements(dependencies: Any) -> Optional[File]:
    """Neptune's `dependencies` as the file to record, read now so that a wrong path fails
    before the run exists."""
    if dependencies is None:
        return None
    if dependencies == "infer":
        lines = set()
        for dist in importlib.metadata.distributions():
            name = dist.metadata["Name"]
            if name:
                lines.add(f"{name}=={dist.version}")
        text = "".join(line + "\n" for line in sorted(lines, key=str.lower))
        return File(content=text.encode("utf-8"), name="requirements.txt",
                    content_type="text/plain")
    if not isinstance(dependencies, (str, os.PathLike)):
        raise NereidTypeError("neptune.init_run(dependencies=): expected \"infer\" or the path "
                              f"of a requirements file, not {type(dependencies).__name__}")
    path = os.fspath(dependencies)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"neptune.init_run(dependencies=): no file at {path!r}")
    with open(path, "rb") as f:
        return File(content=f.read(), name=os.path.basename(path), content_type="text/plain")


def _no_proxies(call: str, kwargs: dict) -> None:
    if kwargs.pop("proxies", None) is not None:
        raise unsupported(f"{call}(proxies=)", "nereid connects to NEREID_URL directly")


def init_project(project: Any = None, api_token: Any = None, mode: str = "read-only", **kw):
    _no_proxies("neptune.init_project", kw)
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
