"""Helpers the text-based parsers share: numbers, instants and units."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from app.errors import InvalidInput

FEET = 0.3048
LENGTH_UNITS = {"m": 1.0, "meters": 1.0, "metres": 1.0, "ft": FEET, "feet": FEET}


def number(value: object, where: str) -> float:
    """A finite float, or InvalidInput naming `where` (e.g. 'line 12, column lat')."""
    if value is None or value == "":
        return math.nan
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"{where}: not a number: {str(value)[:40]!r}") from None
    if not math.isfinite(result):
        raise InvalidInput(f"{where}: not a finite number: {value!r}")
    return result


def instant(value: object, where: str) -> float:
    """UTC epoch seconds from an ISO 8601 string (naive = UTC) or an epoch number (s or ms)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
        return seconds / 1000.0 if seconds > 1e11 else seconds
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}: missing time")
    text = value.strip()
    try:
        return float(text) / 1000.0 if float(text) > 1e11 else float(text)
    except ValueError:
        pass
    candidate = text.replace("Z", "+00:00")
    if len(candidate) >= 10 and candidate[4] in "/:" and candidate[7] in "/:":
        candidate = candidate[:4] + "-" + candidate[5:7] + "-" + candidate[8:]
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        raise InvalidInput(f"{where}: unreadable time {text[:40]!r} (use ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def length_factor(unit: str, where: str) -> float:
    """Metres per unit for a length unit name."""
    factor = LENGTH_UNITS.get(unit.strip().lower())
    if factor is None:
        raise InvalidInput(f"{where}: unknown length unit {unit!r} (use m or ft)")
    return factor
