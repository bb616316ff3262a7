"""Helpers with the names Neptune users know (neptune.utils)."""

from typing import Any


def stringify_unsupported(value: Any) -> Any:
    """Makes `value` loggable: dicts keep their shape, anything that is not a number, bool,
    string or datetime becomes its str()."""
    import datetime

    if isinstance(value, dict):
        return {str(k): stringify_unsupported(v) for k, v in value.items()}
    if isinstance(value, (bool, int, float, str, datetime.datetime)):
        return value
    return str(value)
