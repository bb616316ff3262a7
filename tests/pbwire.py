"""A tiny protobuf wire encoder for nereid.v1.Batch (proto/nereid/v1/batch.proto).

The system tests have no protobuf runtime for Python, so this module writes the few messages they
need by hand. It encodes from the protobuf JSON mapping (the dicts the JSON tests send), so one
batch can be sent both ways and the results compared:

    encode_batch({"writerId": "w", "sequence": "1", "operations": [...]}) -> bytes

Only what batch.proto defines is understood; an unknown key raises KeyError (a test bug).
"""

import math
import struct

# Wire types.
VARINT, I64, LEN = 0, 1, 2


def varint(n: int) -> bytes:
    """Unsigned LEB128; negative int64 values are sent as their 64-bit two's complement."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    return varint((field << 3) | wire_type)


def len_field(field: int, payload: bytes) -> bytes:
    return tag(field, LEN) + varint(len(payload)) + payload


def str_field(field: int, s) -> bytes:
    data = s if isinstance(s, bytes) else s.encode("utf-8")
    return len_field(field, data)


def to_double(v) -> float:
    """JSON-mapping double: a number or "NaN" / "Infinity" / "-Infinity"."""
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    return float(v)


def double_field(field: int, v) -> bytes:
    return tag(field, I64) + struct.pack("<d", to_double(v))


def varint_field(field: int, v) -> bytes:
    return tag(field, VARINT) + varint(int(v))


def packed_doubles(field: int, values) -> bytes:
    if not values:
        return b""
    return len_field(field, b"".join(struct.pack("<d", to_double(v)) for v in values))


def packed_varints(field: int, values) -> bytes:
    if not values:
        return b""
    return len_field(field, b"".join(varint(int(v)) for v in values))


def file_ref(f: dict) -> bytes:
    names = {"sha256": 1, "name": 2, "contentType": 3, "content_type": 3}
    return b"".join(str_field(names[k], v) for k, v in f.items())


def string_list(d: dict) -> bytes:
    return b"".join(str_field(1, s) for s in d.get("values", []))


def file_list(d: dict) -> bytes:
    return b"".join(len_field(1, file_ref(f)) for f in d.get("files", []))


def value(v: dict) -> bytes:
    ((kind, x),) = v.items()
    if kind == "floatValue":
        return double_field(1, x)
    if kind == "intValue":
        return varint_field(2, x)
    if kind == "boolValue":
        return varint_field(3, 1 if x else 0)
    if kind == "stringValue":
        return str_field(4, x)
    if kind == "datetimeUs":
        return varint_field(5, x)
    if kind == "stringSet":
        return len_field(6, string_list(x))
    if kind == "file":
        return len_field(7, file_ref(x))
    if kind == "fileSet":
        return len_field(8, file_list(x))
    if kind == "nested":
        entries = b"".join(
            len_field(1, str_field(1, key) + len_field(2, value(sub)))
            for key, sub in x.get("fields", {}).items()
        )
        return len_field(9, entries)
    raise KeyError(kind)


def points(d: dict, value_kind: str) -> bytes:
    out = packed_doubles(1, d.get("steps", [])) + packed_varints(2, d.get("timestampsUs", []))
    if value_kind == "floats":
        out += packed_doubles(3, d.get("values", []))
    elif value_kind == "strings":
        out += b"".join(str_field(3, s) for s in d.get("values", []))
    else:
        out += b"".join(len_field(3, file_ref(f)) for f in d.get("files", []))
    return out


def operation(op: dict) -> bytes:
    out = str_field(1, op["path"])
    for kind, x in op.items():
        if kind == "path":
            continue
        payload = {
            "assign": lambda: (2, value(x)),
            "addStrings": lambda: (3, string_list(x)),
            "removeStrings": lambda: (4, string_list(x)),
            "appendFloats": lambda: (5, points(x, "floats")),
            "appendStrings": lambda: (6, points(x, "strings")),
            "appendFiles": lambda: (7, points(x, "files")),
            "addFiles": lambda: (8, file_list(x)),
        }[kind]()
        out += len_field(*payload)
    return out


def encode_batch(batch: dict) -> bytes:
    out = b""
    if batch.get("writerId"):
        out += str_field(1, batch["writerId"])
    if int(batch.get("sequence", 0)):
        out += varint_field(2, batch["sequence"])
    for op in batch.get("operations", []):
        out += len_field(3, operation(op))
    return out


def read_varint(data: bytes, i: int):
    n, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def decode_ack(data: bytes) -> dict:
    """nereid.v1.BatchAck -> {"sequence", "duplicate", "applied_points"} (proto3 defaults)."""
    out = {"sequence": 0, "duplicate": False, "applied_points": 0}
    names = {1: "sequence", 2: "duplicate", 3: "applied_points"}
    i = 0
    while i < len(data):
        key, i = read_varint(data, i)
        field, wire_type = key >> 3, key & 7
        if wire_type != VARINT:
            raise ValueError(f"unexpected wire type {wire_type} in BatchAck")
        n, i = read_varint(data, i)
        if field in names:
            out[names[field]] = bool(n) if field == 2 else n
    return out
