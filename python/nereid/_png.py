"""Minimal PNG encoder (stdlib zlib + struct), so images need neither PIL nor matplotlib."""

import struct
import zlib

from nereid.exceptions import NereidValueError


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_png(pixels) -> bytes:
    """PNG bytes of a uint8 numpy array shaped (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA."""
    import numpy as np

    a = np.ascontiguousarray(pixels, dtype=np.uint8)
    if a.ndim == 2:
        color_type, channels = 0, 1
    elif a.ndim == 3 and a.shape[2] in (1, 3, 4):
        channels = a.shape[2]
        color_type = {1: 0, 3: 2, 4: 6}[channels]
    else:
        raise NereidValueError(f"an image must be (H, W), (H, W, 3) or (H, W, 4), not {a.shape}")
    h, w = a.shape[0], a.shape[1]
    if h == 0 or w == 0:
        raise NereidValueError("an image must have at least one pixel")
    rows = a.reshape(h, w * channels)
    # Filter type 0 (none) in front of every row.
    raw = np.concatenate([np.zeros((h, 1), dtype=np.uint8), rows], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6))
            + _chunk(b"IEND", b""))
