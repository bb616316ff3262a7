"""`from nereid.compat.neptune_scale import Run`: the neptune-scale (Neptune 3.x) Run over
nereid. NEPTUNE_PROJECT / NEPTUNE_API_TOKEN are honoured; unsupported arguments raise."""

from __future__ import annotations

import os
from typing import Any, Optional

from nereid.exceptions import unsupported
from nereid.run import Run as _Run


_CALLBACKS = ("on_queue_full_callback", "on_network_error_callback", "on_error_callback",
              "on_warning_callback", "on_async_lag_callback")


class Run(_Run):
    def __init__(self, run_id: Optional[str] = None, experiment_name: Optional[str] = None,
                 project: Optional[str] = None, api_token: Optional[str] = None,
                 resume: bool = False, mode: Optional[str] = None,
                 fork_run_id: Optional[str] = None, fork_step: Any = None,
                 creation_time: Any = None, log_directory: Optional[str] = None,
                 enable_console_log_capture: bool = True, **kwargs: Any):
        for name, value in (("fork_run_id", fork_run_id), ("fork_step", fork_step),
                            ("creation_time", creation_time)):
            if value is not None:
                raise unsupported(f"neptune_scale.Run({name}=)")
        for harmless in ("max_queue_size", "async_lag_threshold"):
            kwargs.pop(harmless, None)
        # A callback the user counts on must not be dropped without a word: nereid never calls
        # one (problems go to stderr and Run.errors()), so a non-None callback raises.
        for name in _CALLBACKS:
            if kwargs.pop(name, None) is not None:
                raise unsupported(f"neptune_scale.Run({name}=)",
                                  "problems are printed to stderr and kept in run.errors()")
        if kwargs:
            raise unsupported(f"neptune_scale.Run({', '.join(kwargs)}=)")
        if project is None and not os.environ.get("NEREID_PROJECT"):
            project = os.environ.get("NEPTUNE_PROJECT")
        if not api_token and not os.environ.get("NEREID_API_TOKEN"):
            api_token = os.environ.get("NEPTUNE_API_TOKEN") or None
        if mode == "disabled":
            mode = "debug"
        super().__init__(project=project, api_token=api_token, mode=mode,
                         name=experiment_name, custom_run_id=run_id,
                         capture_stdout=enable_console_log_capture,
                         capture_stderr=enable_console_log_capture, spool_dir=log_directory)
