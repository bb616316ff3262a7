"""Handler: what `run["train/loss"]` returns — the Neptune 1.x field API over one path."""

from __future__ import annotations

import datetime as _dt
import numbers
import os
from typing import TYPE_CHECKING, Any, Dict, Iterable, Optional

from nereid import exceptions as exc
from nereid.types import File

if TYPE_CHECKING:
    from nereid.run import Run

FLOAT_SERIES = "float_series"
STRING_SERIES = "string_series"
FILE_SERIES = "file_series"
STRING_SET = "string_set"
ATOM = "value"  # a single assigned value (number, bool, string, datetime, file)

_NAMES = {FLOAT_SERIES: "float series", STRING_SERIES: "string series",
          FILE_SERIES: "file series", STRING_SET: "string set", ATOM: "single value"}


def _seconds(timestamp: Any) -> Optional[float]:
    if timestamp is None:
        return None
    if isinstance(timestamp, _dt.datetime):
        return timestamp.timestamp()
    return float(timestamp)


def _seconds_array(timestamps: Any, np: Any) -> Any:
    """Timestamps as float64 seconds since the epoch: a numeric or datetime64 array as a whole,
    anything else (datetime objects) element by element."""
    if isinstance(timestamps, np.ndarray) and timestamps.dtype.kind == "M":
        return timestamps.astype("datetime64[us]").astype(np.int64) / 1e6
    if isinstance(timestamps, np.ndarray) and timestamps.dtype.kind in "fiu":
        return timestamps.astype(np.float64, copy=False)
    return np.asarray([_seconds(t) for t in timestamps], dtype=np.float64)


def _scalar(value: Any) -> Any:
    """numpy scalars and 0-d arrays/tensors (loss.item() forgotten) to Python numbers."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


class Handler:
    """A path of a run. Cheap; `run[path]` returns the same object for the same path, so keep
    it in a loop: `loss = run["train/loss"]`."""

    __slots__ = ("_run", "_path", "_core", "_kind")

    def __init__(self, run: "Run", path: str):
        self._run = run
        self._path = path
        self._core = None  # the nereid._core.Field, made on the first write (validates the path)
        self._kind: Optional[str] = None

    # --- navigation ---------------------------------------------------------------------------

    def __getitem__(self, key: str) -> "Handler":
        return self._run[self._path + "/" + key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._run[self._path + "/" + key] = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise exc.unsupported(f"run[{self._path!r}].{name}()")

    def __repr__(self) -> str:
        return f"<nereid Handler {self._path!r}>"

    def __reduce__(self):
        self._run.__reduce__()  # raises, saying how a worker process logs into this run

    @property
    def path(self) -> str:
        return self._path

    # --- writes -------------------------------------------------------------------------------

    def _field(self):
        f = self._core
        if f is None:
            f = self._core = self._run._core_field(self._path)
        return f

    def _strings(self, core_call, *args) -> None:
        """A core call that takes str: pybind11 refuses a str it cannot encode as UTF-8 (a lone
        surrogate, as left by errors="surrogateescape") with a TypeError about the signature;
        say what is wrong instead. The other arguments are checked before, so nothing else
        raises TypeError here."""
        try:
            core_call(*args)
        except TypeError as e:
            if isinstance(e, exc.NereidError):
                raise  # the core's own verdict, not pybind11's
            raise exc.NereidValueError(
                f"a string for {self._path!r} is not valid UTF-8 (it holds a lone surrogate); "
                "nothing logged") from None

    def _claim(self, kind: str, what: str) -> None:
        """Raises NereidTypeError when the path already holds another kind. The caller fixes the
        kind (self._kind = kind) once its write succeeded, so a refused write fixes nothing."""
        if self._kind is not None and self._kind != kind:
            raise exc.NereidTypeError(
                f"cannot {what} into {self._path!r}: it is a {_NAMES[self._kind]} in this run")

    def assign(self, value: Any, wait: bool = False) -> None:
        """Sets a single value (number, bool, str, datetime, File) or, for a dict, every leaf
        under this path (params/optim/name)."""
        if isinstance(value, dict):
            for k, v in value.items():
                if v is None:
                    continue  # as Neptune: a None leaf in a config dict is left out
                self[str(k)].assign(v)
        else:
            self._assign_one(value)
        if wait:
            self._run.wait()

    def _assign_one(self, value: Any) -> None:
        value = _scalar(value)
        if isinstance(value, File):
            self.upload(value)
            return
        if isinstance(value, bool):
            method, arg = "assign_bool", value
        elif isinstance(value, numbers.Integral):
            method, arg = "assign_int", int(value)
            if not -2**63 <= arg < 2**63:
                raise exc.NereidValueError(
                    f"cannot assign {arg} to {self._path!r}: an int field holds 64 bits; "
                    "log it as a float or a str")
        elif isinstance(value, numbers.Real):
            method, arg = "assign_float", float(value)
        elif isinstance(value, str):
            method, arg = "assign_string", value
        elif isinstance(value, _dt.datetime):
            method, arg = "assign_datetime", value.timestamp()
        else:
            raise exc.NereidTypeError(
                f"cannot assign {type(value).__name__} to {self._path!r}: a field holds a number, "
                "bool, str, datetime or File (nereid.utils.stringify_unsupported() makes a str)")
        self._claim(ATOM, f"assign {type(value).__name__}")
        if method == "assign_string":
            self._strings(self._field().assign_string, arg)
        else:
            getattr(self._field(), method)(arg)
        self._kind = ATOM

    def append(self, value: Any, step: Optional[float] = None, timestamp: Any = None,
               wait: bool = False) -> None:
        """Appends one point. Numbers go to a float series, str to a string series, File to a
        file series; a dict appends each of its entries under this path. Without step, the point
        takes the step after the series' last one."""
        t = type(value)
        if t is float or t is int:  # the hot path: no isinstance chain
            first = self._kind is not FLOAT_SERIES
            if first:
                self._claim(FLOAT_SERIES, "append a number")
            f = self._core or self._field()
            if step is None and timestamp is None:
                f.append_value(value)
            else:
                if timestamp is not None:
                    if step is None:
                        raise exc.NereidValueError("append: a timestamp needs a step as well")
                    timestamp = _seconds(timestamp)
                f.append_float(value, step, timestamp)
            if first:
                self._kind = FLOAT_SERIES
        elif t is dict:
            for k, v in value.items():
                self[str(k)].append(v, step=step, timestamp=timestamp)
        else:
            self._append_other(value, step, timestamp)
        if wait:
            self._run.wait()

    def _append_other(self, value: Any, step: Optional[float], timestamp: Any) -> None:
        value = _scalar(value)
        if timestamp is not None and step is None:
            raise exc.NereidValueError("append: a timestamp needs a step as well")
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            self._claim(FLOAT_SERIES, "append a number")
            self._field().append_float(float(value), step, _seconds(timestamp))
            self._kind = FLOAT_SERIES
        elif isinstance(value, str):
            self._claim(STRING_SERIES, "append a str")
            self._strings(self._field().append_string, value, step)
            self._kind = STRING_SERIES
        elif isinstance(value, File):
            self._claim(FILE_SERIES, "append a File")
            self._field().append_file(value.read_bytes(), value.name, value.content_type, step)
            self._kind = FILE_SERIES
        else:
            raise exc.NereidTypeError(
                f"cannot append {type(value).__name__} to {self._path!r}: a series takes numbers, "
                "str or nereid.types.File")

    def extend(self, values: Any, steps: Optional[Iterable[float]] = None,
               timestamps: Optional[Iterable[Any]] = None, wait: bool = False) -> None:
        """Appends many points. A numeric numpy array (or torch tensor) goes to the core as one
        buffer, without per-element Python work."""
        import numpy as np

        if isinstance(values, dict):
            for k, v in values.items():
                self[str(k)].extend(v, steps=steps, timestamps=timestamps)
            return
        if hasattr(values, "detach") and hasattr(values, "cpu"):  # torch.Tensor
            values = values.detach().cpu().numpy()
        if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
            arr = values
        else:
            values = list(values)
            if values and all(type(v) is str for v in values):
                self._claim(STRING_SERIES, "extend with str")
                if steps is None and timestamps is None:
                    self._strings(self._field().extend_strings, values)
                    self._kind = STRING_SERIES
                else:
                    self._loop(values, steps, timestamps)
                return
            if not all(isinstance(_scalar(v), numbers.Real) and not isinstance(v, bool)
                       for v in values):
                if all(isinstance(v, File) for v in values):
                    self._loop(values, steps, timestamps)
                    return
                kinds = sorted({type(v).__name__ for v in values})
                raise exc.NereidTypeError(
                    f"cannot extend {self._path!r} with {', '.join(kinds)}: values must be all "
                    "numbers, all str or all nereid.types.File")
            arr = np.asarray([_scalar(v) for v in values], dtype=np.float64)
        if arr.ndim != 1:
            raise exc.NereidValueError(f"extend: values must be one-dimensional, not {arr.shape}")
        self._claim(FLOAT_SERIES, "extend with numbers")
        st = None if steps is None else np.asarray(steps, dtype=np.float64)
        if st is not None and st.shape != arr.shape:
            raise exc.NereidValueError("extend: steps must be as long as values")
        if st is not None and not np.isfinite(st).all():
            # As append does; the core alone would skip those points without a word.
            raise exc.NereidValueError(
                f"extend: every step of {self._path!r} must be finite; nothing logged")
        ts = None
        if timestamps is not None:
            if st is None:
                raise exc.NereidValueError("extend: timestamps need steps as well")
            ts = _seconds_array(timestamps, np)
            if ts.shape != arr.shape:
                raise exc.NereidValueError("extend: timestamps must be as long as values")
        self._field().extend_floats(arr, st, ts)
        self._kind = FLOAT_SERIES
        if wait:
            self._run.wait()

    def _loop(self, values, steps, timestamps) -> None:
        steps = list(steps) if steps is not None else [None] * len(values)
        stamps = list(timestamps) if timestamps is not None else [None] * len(values)
        if len(steps) != len(values) or len(stamps) != len(values):
            raise exc.NereidValueError("extend: steps and timestamps must be as long as values")
        for v, s, t in zip(values, steps, stamps):
            self.append(v, step=s, timestamp=t)

    def add(self, values: Any, wait: bool = False) -> None:
        """Adds str values to a string set (sys/tags)."""
        vals = [values] if isinstance(values, str) else list(values)
        if not all(isinstance(v, str) for v in vals):
            raise exc.NereidTypeError(f"add: {self._path!r} is a string set; values must be str")
        self._claim(STRING_SET, "add str values")
        self._strings(self._field().add, vals)
        self._kind = STRING_SET
        if wait:
            self._run.wait()

    def remove(self, values: Any, wait: bool = False) -> None:
        vals = [values] if isinstance(values, str) else list(values)
        if not all(isinstance(v, str) for v in vals):
            raise exc.NereidTypeError(f"remove: {self._path!r} is a string set; values must be str")
        self._claim(STRING_SET, "remove str values")
        self._strings(self._field().remove, vals)
        self._kind = STRING_SET

    def upload(self, value: Any, wait: bool = False) -> None:
        """Stores a file (a path, or a nereid.types.File) as this field's value. The content is
        copied into the spool before the call returns."""
        if isinstance(value, (str, os.PathLike)):
            value = File(path=os.fspath(value))
        if not isinstance(value, File):
            raise exc.NereidTypeError(
                f"upload: expected a path or nereid.types.File, not {type(value).__name__}")
        self._claim(ATOM, "upload a file")
        if value.content is not None:
            self._field().assign_file_bytes(value.content, value.name, value.content_type)
        else:
            if not os.path.isfile(value.path):
                raise FileNotFoundError(f"upload: no file at {value.path!r}")
            self._field().assign_file_path(value.path, value.name)
        self._kind = ATOM
        if wait:
            self._run.wait()

    # --- reads (blocking HTTP; call run.wait() first to see what was just logged) -------------

    def fetch(self) -> Any:
        """The value of a single-value field, the last value of a series, the set of a string
        set, or a nested dict for a namespace (run["params"].fetch())."""
        return self._run._fetch_path(self._path)

    def fetch_last(self) -> Any:
        return self._run._fetch_path(self._path, last=True)

    def fetch_values(self, include_timestamp: bool = True, progress_bar: Any = None):
        """Every point of the series as a pandas DataFrame with columns step, value and (by
        default) timestamp."""
        return self._run._fetch_series_frame(self._path, include_timestamp)

    def download(self, destination: Optional[str] = None, progress_bar: Any = None) -> str:
        """Downloads a file field to `destination` (a file or folder; default: the stored name in
        the working directory). Returns the path written."""
        return self._run._download(self._path, destination)

    def exists(self) -> bool:
        return self._run.exists(self._path)

