"""Response classes: JSON serialised with orjson (numpy arrays and datetimes included)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


class JSON(Response):
    """`application/json` rendered by orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)


class GeoJSON(JSON):
    """`application/geo+json` rendered by orjson."""

    media_type = "application/geo+json"
