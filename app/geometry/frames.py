"""Local east-north-up (ENU) frames on the WGS84 ellipsoid, exact via ECEF (pyproj)."""

from __future__ import annotations

import threading

import numpy as np
from pyproj import Geod, Transformer

WGS84 = Geod(ellps="WGS84")


_LOCAL = threading.local()


def ecef() -> Transformer:
    """Geodetic (lon, lat, ellipsoidal height) <-> ECEF, one transformer per thread."""
    transformer = getattr(_LOCAL, "ecef", None)
    if transformer is None:
        transformer = _LOCAL.ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    return transformer


class LocalFrame:
    """An ENU frame tangent to the ellipsoid at (lon0, lat0, h0); heights are ellipsoidal."""

    def __init__(self, lon0: float, lat0: float, h0: float = 0.0) -> None:
        self.origin = (float(lon0), float(lat0), float(h0))
        self.ecef0 = np.array(ecef().transform(lon0, lat0, h0))
        lam, phi = np.radians(lon0), np.radians(lat0)
        sl, cl, sp, cp = np.sin(lam), np.cos(lam), np.sin(phi), np.cos(phi)
        # rows: east, north, up expressed in ECEF
        self.rotation = np.array([[-sl, cl, 0.0], [-sp * cl, -sp * sl, cp], [cp * cl, cp * sl, sp]])

    def to_enu(self, lon: np.ndarray, lat: np.ndarray, h: np.ndarray | float = 0.0) -> np.ndarray:
        """(..., 3) east, north, up metres of geodetic points."""
        lon, lat, h = np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float), h)
        x, y, z = ecef().transform(lon, lat, h)
        delta = np.stack([x, y, z], axis=-1) - self.ecef0
        return delta @ self.rotation.T

    def to_geodetic(self, enu: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """lon, lat, ellipsoidal height of (..., 3) ENU points."""
        points = np.asarray(enu, float) @ self.rotation + self.ecef0
        lon, lat, h = ecef().transform(
            points[..., 0], points[..., 1], points[..., 2], direction="INVERSE"
        )
        return np.asarray(lon), np.asarray(lat), np.asarray(h)
