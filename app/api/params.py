"""Query-parameter parsing shared by the routers: bbox, datetime intervals, instants, paging."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from app.errors import InvalidInput


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """`minx,miny,maxx,maxy` in WGS84, validated."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise InvalidInput("bbox must be minx,miny,maxx,maxy")
    try:
        xmin, ymin, xmax, ymax = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"bbox has a value that is not a number: {value!r}") from None
    return check_bbox(xmin, ymin, xmax, ymax)


def check_bbox(
    xmin: float, ymin: float, xmax: float, ymax: float, *, flat: bool = True, wgs84: bool = True
) -> tuple[float, float, float, float]:
    """A bbox's values, checked: finite, ordered (equal edges allowed when `flat`) and, in
    WGS84, on the globe."""
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise InvalidInput("bbox values must be finite")
    if (xmin > xmax or ymin > ymax) if flat else (xmin >= xmax or ymin >= ymax):
        order = "<=" if flat else "<"
        raise InvalidInput(f"bbox must have minx {order} maxx and miny {order} maxy")
    if wgs84:
        check_lonlat(xmin, ymin, "bbox: ")
        check_lonlat(xmax, ymax, "bbox: ")
    return xmin, ymin, xmax, ymax


def check_lonlat(lon: float, lat: float, what: str = "") -> None:
    """InvalidInput unless lon, lat is a WGS84 position (-180..180, -90..90; NaN is not)."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(f"{what}{lon:g},{lat:g} is not a WGS84 lon,lat (-180..180, -90..90)")


def parse_datetime(value: str, name: str = "datetime") -> datetime:
    """An ISO 8601 instant (naive means UTC)."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name}: not an ISO 8601 instant: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_interval(value: str | None) -> tuple[datetime | None, datetime | None] | None:
    """OGC `datetime`: an instant, `start/end`, `../end` or `start/..`."""
    if value is None:
        return None
    if "/" not in value:
        moment = parse_datetime(value)
        return moment, moment
    start_text, _, end_text = value.partition("/")
    start = None if start_text in ("", "..") else parse_datetime(start_text)
    end = None if end_text in ("", "..") else parse_datetime(end_text)
    if start and end and start > end:
        raise InvalidInput("datetime interval starts after it ends")
    return start, end


def parse_ids(value: str | None, name: str) -> list[int] | None:
    """A comma-separated list of integer ids."""
    if value is None:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput(f"{name} must be comma-separated integers") from None


def paging_links(
    request: Request, *, offset: int, limit: int, returned: int, matched: int
) -> list[dict[str, Any]]:
    """OGC API links: self, and next/prev when there are more pages."""
    base = str(request.url.remove_query_params(["offset"]))
    params = dict(request.query_params)

    def link(rel: str, new_offset: int) -> dict[str, Any]:
        query = urlencode({**params, "offset": new_offset, "limit": limit})
        return {"rel": rel, "type": "application/geo+json", "href": f"{base.split('?')[0]}?{query}"}

    links = [{"rel": "self", "type": "application/geo+json", "href": str(request.url)}]
    if offset + returned < matched:
        links.append(link("next", offset + limit))
    if offset > 0:
        links.append(link("prev", max(0, offset - limit)))
    return links


def feature_collection(
    request: Request, features: list[dict], *, offset: int, limit: int, matched: int
) -> dict[str, Any]:
    """An OGC API – Features items page."""
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": datetime.now(UTC),
        "links": paging_links(
            request, offset=offset, limit=limit, returned=len(features), matched=matched
        ),
    }
