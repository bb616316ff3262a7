"""nereid: log ML experiments to a Nereid server, with the shapes Neptune users know.

    import nereid
    run = nereid.init_run(project="acme/vision")
    run["params"] = {"lr": 0.01}
    run["train/loss"].append(0.3)
    run.stop()

The work is done by the C++ client (nereid._core): every log call writes to a crash-safe disk
spool and returns; a background thread uploads. See docs/python.md."""

from nereid import management, types
from nereid.exceptions import (
    AuthenticationError,
    NereidError,
    NereidTypeError,
    NereidUnsupportedError,
    NereidValueError,
    NotFoundError,
    RunStoppedError,
    UnavailableError,
)
from nereid.handler import Handler
from nereid.notebook import NotebookCheckpoint, upload_notebook_checkpoint
from nereid.project import Project, Table, init_project
from nereid.run import Run, init_run
from nereid.types import File

__version__ = "0.1.0"
ANONYMOUS_API_TOKEN = ""

__all__ = [
    "AuthenticationError", "File", "Handler", "NereidError", "NereidTypeError",
    "NereidUnsupportedError", "NereidValueError", "NotFoundError", "NotebookCheckpoint", "Project",
    "Run", "RunStoppedError", "Table", "UnavailableError", "init_project", "init_run", "management",
    "types",
    "upload_notebook_checkpoint",
]
