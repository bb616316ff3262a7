"""Value types of the logging API: File (and File.as_image) and GitRef, as in neptune.types."""

from __future__ import annotations

import io
import os
from typing import Any, Optional

from nereid._png import encode_png
from nereid.exceptions import NereidTypeError, NereidValueError


class File:
    """A file value: bytes in memory or a path on disk. Logged by `run[path].upload(file)`,
    `run[path] = file` or, for a file series, `run[path].append(file)`."""

    __slots__ = ("path", "content", "name", "content_type", "extension")

    def __init__(self, path: Optional[str] = None, content: Optional[bytes] = None,
                 name: Optional[str] = None, content_type: str = "",
                 extension: Optional[str] = None):
        if (path is None) == (content is None):
            raise NereidValueError("File needs exactly one of path= or content=")
        self.path = os.fspath(path) if path is not None else None
        self.content = bytes(content) if content is not None else None
        if name is None:
            name = os.path.basename(self.path) if self.path else "file" + (
                "." + extension if extension else ".bin")
        self.name = name
        self.content_type = content_type
        self.extension = extension

    @classmethod
    def from_path(cls, path: str) -> "File":
        return cls(path=path)

    @classmethod
    def from_content(cls, content: Any, extension: Optional[str] = None) -> "File":
        if isinstance(content, str):
            content = content.encode("utf-8")
        return cls(content=content, extension=extension or "txt")

    @classmethod
    def from_stream(cls, stream: Any, extension: Optional[str] = None) -> "File":
        data = stream.read()
        return cls.from_content(data, extension=extension)

    @classmethod
    def as_image(cls, image: Any) -> "File":
        """A PNG of `image`: a numpy array (H, W) / (H, W, 1|3|4) of floats in [0, 1] or of
        uint8, a torch tensor of the same shapes, a PIL image, or a matplotlib figure."""
        png = _to_png(image)
        return cls(content=png, name="image.png", content_type="image/png", extension="png")

    def read_bytes(self) -> bytes:
        if self.content is not None:
            return self.content
        with open(self.path, "rb") as f:
            return f.read()

    def __repr__(self) -> str:
        where = f"path={self.path!r}" if self.path else f"{len(self.content)} bytes"
        return f"File({where}, name={self.name!r})"


class GitRef:
    """Which git repository init_run(git_ref=...) records, as neptune.types.GitRef:
    GitRef(repository_path="/src/repo") reads that one, GitRef() the one around the entry
    script, GitRef.DISABLED none (as git_ref=False)."""

    DISABLED: "GitRef"

    def __init__(self, repository_path: Optional[str] = None):
        self.repository_path = os.fspath(repository_path) if repository_path else None
        self._enabled = True

    def __bool__(self) -> bool:
        return self._enabled

    def __repr__(self) -> str:
        if not self._enabled:
            return "GitRef.DISABLED"
        return f"GitRef(repository_path={self.repository_path!r})"


GitRef.DISABLED = GitRef()
GitRef.DISABLED._enabled = False


def _to_png(image: Any) -> bytes:
    import numpy as np

    # PIL images and matplotlib figures encode themselves when their libraries are present.
    if hasattr(image, "save") and hasattr(image, "mode"):
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue()
    if hasattr(image, "savefig"):
        buf = io.BytesIO()
        image.savefig(buf, format="png")
        return buf.getvalue()
    if hasattr(image, "detach") and hasattr(image, "cpu"):  # torch.Tensor
        image = image.detach().cpu().numpy()
    a = np.asarray(image)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif a.dtype != np.uint8:
        if not np.issubdtype(a.dtype, np.number):
            raise NereidTypeError(f"File.as_image: cannot make an image of dtype {a.dtype}")
        # Floats are taken as [0, 1] (as in Neptune); anything outside is clipped.
        f = np.nan_to_num(a.astype(np.float64), nan=0.0)
        if np.issubdtype(a.dtype, np.integer):
            a = np.clip(f, 0, 255).astype(np.uint8)
        else:
            a = (np.clip(f, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    return encode_png(a)
