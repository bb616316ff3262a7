"""Every exception nereid raises. All derive from NereidError and from the built-in exception a
Python program would already catch (ValueError, TypeError, LookupError, ...)."""

from nereid._core import (  # noqa: F401  (re-exported)
    AuthenticationError,
    NereidError,
    NereidTypeError,
    NereidValueError,
    NotFoundError,
    RunStoppedError,
    UnavailableError,
)


class NereidUnsupportedError(NereidError, NotImplementedError):
    """A Neptune (or other tracker) call that nereid does not implement. Raised at the call,
    never silently ignored, so a migrated script fails where it needs a change."""


def unsupported(call: str, hint: str = "") -> NereidUnsupportedError:
    msg = f"{call} is not supported by nereid"
    if hint:
        msg += f": {hint}"
    return NereidUnsupportedError(msg + " (see docs/python.md)")
