"""The camera model: UAV frame pixels to the ground and back, vectorised over pixels and poses.

Frames and conventions (ARCHITECTURE.md):
- camera frame: x right, y down, z forward along the optical axis (pixel `u` right, `v` down,
  origin at the top-left corner of the top-left pixel);
- attitude: yaw clockwise from true north, pitch 0 = level and -90 = straight down, roll
  positive = right side down; applied in the order of a 3-axis gimbal's motors, outside in:
  yaw, then roll about the level forward axis, then pitch about the (rolled) right axis;
- the world is WGS84: camera positions are converted to ECEF with pyproj, and a ray meets
  "the ground" where it meets the ellipsoid raised by the ground's height (exact on the
  ellipsoid at height 0, the oracle pymap3d's `lookAtSpheroid` uses); ground points come back
  to lon/lat through `geodetic_from_ecef`, PROJ's own closed form evaluated on whole arrays.

A ray that points above the horizon, or meets the ground only beyond `max_range`, has no
intersection: the result is NaN, never a wrong point.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from app.geometry.camera import Intrinsics
from app.geometry.frames import WGS84, WGS84_A, WGS84_B, ecef, geodetic_from_ecef


@dataclass
class Poses:
    """N camera poses: position (ellipsoidal height), attitude, ground height, zoom."""

    lon: np.ndarray
    lat: np.ndarray
    height: np.ndarray  # camera height, metres (same datum as ground)
    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray
    ground: np.ndarray  # ground height below the camera, metres
    zoom: np.ndarray | None = None  # digital zoom ratio (scales fx, fy)

    @classmethod
    def one(
        cls,
        lon: float,
        lat: float,
        height: float,
        yaw: float,
        pitch: float,
        roll: float = 0.0,
        ground: float = 0.0,
        zoom: float | None = None,
    ) -> Poses:
        """A single pose."""

        def a(value: float | None) -> np.ndarray:
            return np.array([np.nan if value is None else value], dtype=float)

        return cls(
            a(lon),
            a(lat),
            a(height),
            a(yaw),
            a(pitch),
            a(roll),
            a(ground),
            None if zoom is None else a(zoom),
        )

    def __len__(self) -> int:
        return int(np.asarray(self.lon).size)

    def take(self, rows: np.ndarray) -> Poses:
        """The poses at the given indexes."""
        return Poses(
            *(
                None if values is None else np.asarray(values)[rows]
                for values in (
                    self.lon,
                    self.lat,
                    self.height,
                    self.yaw,
                    self.pitch,
                    self.roll,
                    self.ground,
                    self.zoom,
                )
            )
        )


def _matrices(n: int, rows: list[list]) -> np.ndarray:
    """(n, 3, 3) matrices from a 3 x 3 nested list of (n,) arrays or scalars."""
    out = np.empty((n, 3, 3))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            out[:, i, j] = value
    return out


def _enu_basis(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotation ENU -> ECEF (columns: east, north, up in ECEF)."""
    lam, phi = np.radians(lon), np.radians(lat)
    sl, cl, sp, cp = np.sin(lam), np.cos(lam), np.sin(phi), np.cos(phi)
    return _matrices(lam.size, [[-sl, -sp * cl, cp * cl], [cl, -sp * sl, cp * sl], [0.0, cp, sp]])


def camera_to_enu(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotation from the camera frame (x right, y down, z forward) to ENU.

    The product heading @ level @ bank @ tilt, multiplied out, of: the heading, clockwise
    about up (north -> east); the level camera looking north (x -> east, y -> down,
    z -> north); the bank, a roll about the level forward axis, right side down; and the
    tilt, a pitch about the camera's x axis (up is -y).
    """
    psi, theta, phi = np.broadcast_arrays(
        *(np.radians(np.atleast_1d(np.asarray(a, float))) for a in (yaw, pitch, roll))
    )
    cy, sy = np.cos(psi), np.sin(psi)
    cp, sp = np.cos(theta), np.sin(theta)
    cr, sr = np.cos(phi), np.sin(phi)
    return _matrices(
        psi.size,
        [
            [cr * cy, sp * sy - cp * cy * sr, cp * sy + cy * sp * sr],
            [-cr * sy, cy * sp + cp * sr * sy, cp * cy - sp * sr * sy],
            [-sr, -cp * cr, cr * sp],
        ],
    )


def distort(camera: Intrinsics, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brown–Conrady: ideal normalised coordinates to distorted ones."""
    if not camera.has_distortion:
        return x, y
    r2 = x * x + y * y
    radial = 1 + camera.k1 * r2 + camera.k2 * r2**2 + camera.k3 * r2**3
    xd = x * radial + 2 * camera.p1 * x * y + camera.p2 * (r2 + 2 * x * x)
    yd = y * radial + camera.p1 * (r2 + 2 * y * y) + 2 * camera.p2 * x * y
    return xd, yd


def undistort(camera: Intrinsics, xd: np.ndarray, yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Invert `distort` by fixed-point iteration (converges for real lenses)."""
    if not camera.has_distortion:
        return xd, yd
    x, y = xd.copy(), yd.copy()
    for _ in range(40):
        r2 = x * x + y * y
        radial = 1 + camera.k1 * r2 + camera.k2 * r2**2 + camera.k3 * r2**3
        dx = 2 * camera.p1 * x * y + camera.p2 * (r2 + 2 * x * x)
        dy = camera.p1 * (r2 + 2 * y * y) + 2 * camera.p2 * x * y
        x, y = (xd - dx) / radial, (yd - dy) / radial
    return x, y


def _focal(camera: Intrinsics, poses: Poses) -> tuple[np.ndarray, np.ndarray]:
    zoom = (
        np.ones(len(poses))
        if poses.zoom is None
        else np.where(np.isfinite(poses.zoom) & (poses.zoom > 0), poses.zoom, 1.0)
    )
    return camera.fx * zoom, camera.fy * zoom


def _camera_to_ecef(poses: Poses) -> np.ndarray:
    """(N, 3, 3) rotation from each camera frame to ECEF."""
    return _enu_basis(poses.lon, poses.lat) @ camera_to_enu(poses.yaw, poses.pitch, poses.roll)


def _grid(poses: Poses, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels as (N, M): the same M pixels at every pose, or M pixels per pose."""
    u, v = np.asarray(u, float), np.asarray(v, float)
    shape = (len(poses), u.shape[-1])
    return np.broadcast_to(u, shape), np.broadcast_to(v, shape)


def _rays(
    camera: Intrinsics,
    rotation: np.ndarray,
    fx: np.ndarray,
    fy: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
) -> np.ndarray:
    """(N, M, 3) unit ECEF rays of pixels (N, M) for rotations (N, 3, 3) camera -> ECEF."""
    x, y = undistort(camera, (u - camera.cx) / fx[:, None], (v - camera.cy) / fy[:, None])
    world = (
        rotation[:, None, :, 0] * x[..., None]
        + rotation[:, None, :, 1] * y[..., None]
        + rotation[:, None, :, 2]
    )
    return world / np.sqrt(np.sum(world * world, axis=-1, keepdims=True))


def pixel_rays(camera: Intrinsics, poses: Poses, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(N, M, 3) unit ray directions in ECEF of pixels (M,) or (N, M) at N poses."""
    u, v = _grid(poses, u, v)
    fx, fy = _focal(camera, poses)
    return _rays(camera, _camera_to_ecef(poses), fx, fy, u, v)


def _geodetic(origin: np.ndarray, rays: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
    """lon, lat, h of origin + t * ray, NaN where t is NaN."""
    points = origin[:, None, :] + rays * t[..., None]
    return geodetic_from_ecef(points[..., 0], points[..., 1], points[..., 2])


def camera_ecef(poses: Poses) -> np.ndarray:
    """(N, 3) camera positions in ECEF."""
    x, y, z = ecef().transform(poses.lon, poses.lat, poses.height)
    return np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1)


@dataclass
class _Frames:
    """Per pose, what every pixel's ray needs: camera -> ECEF rotation, camera position,
    focal lengths, and the raised ellipsoid scaled to the unit sphere (R / axes, o / axes)."""

    rotation: np.ndarray  # (N, 3, 3)
    origin: np.ndarray  # (N, 3) ECEF
    fx: np.ndarray
    fy: np.ndarray
    scaled: np.ndarray  # (N, 3, 3) rotation / axes
    o: np.ndarray  # (N, 3) origin / axes
    c: np.ndarray  # (N, 1) |o|^2 - 1 (> 0: the camera is above the ground)
    axes: np.ndarray  # (N, 3) semi-axes of the raised ellipsoid

    @classmethod
    def of(cls, camera: Intrinsics, poses: Poses) -> _Frames:
        rotation, origin = _camera_to_ecef(poses), camera_ecef(poses)
        fx, fy = _focal(camera, poses)
        g = poses.ground
        axes = np.stack([WGS84_A + g, WGS84_A + g, WGS84_B + g], axis=-1)
        o = origin / axes
        c = np.sum(o * o, axis=-1)[:, None] - 1.0
        return cls(rotation, origin, fx, fy, rotation / axes[:, :, None], o, c, axes)

    def take(self, rows: np.ndarray) -> _Frames:
        return _Frames(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


def _hits(
    camera: Intrinsics, frames: _Frames, u: np.ndarray, v: np.ndarray, max_range: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where pixel rays (N, M) meet the raised ellipsoid: a quadratic in t per pixel.

    With d = R [x, y, 1] the (unnormalised) ray of a pixel and K = R / axes, the ellipsoid
    scaled to the unit sphere turns the hit into |o' + t K p|^2 = 1 with p = [x, y, 1], so
    a t^2 + 2 h t + c = 0 with a = p^T (K^T K) p, h = (K^T o') . p and c = |o'|^2 - 1. The
    coefficients are formed once per pose; each pixel then costs a few multiply-adds, done in
    place (a million pixels take a handful of arrays, no (N, M, 3) temporaries). Returns the
    normalised image coordinates x, y, the hit parameter t (in units of d) and the slant
    range t |d| (both NaN: no hit).

    The arrays are laid out with the longer axis contiguous (poses for many poses with a few
    pixels each, as footprints have), so that each per-pose coefficient broadcasts along long
    runs of memory; every later array follows that layout.
    """
    order = "F" if u.shape[0] > u.shape[1] else "C"
    x = np.subtract(u, camera.cx, order=order)
    x /= frames.fx[:, None]
    y = np.subtract(v, camera.cy, order=order)
    y /= frames.fy[:, None]
    x, y = undistort(camera, x, y)
    k = frames.scaled
    g = np.matmul(frames.o[:, None, :], k)[:, 0, :, None]  # (N, 3, 1): K^T o'
    # K^T K = I / A^2 + kappa w w^T with w the rotation's ECEF-z row (the ellipsoid is a
    # sphere of radius A squeezed along the polar axis), so a = |p|^2 / A^2 + kappa (w . p)^2
    polar = frames.rotation[:, 2, :, None]
    inv_a2 = (1.0 / frames.axes[:, 0] ** 2)[:, None]
    kappa = (1.0 / frames.axes[:, 2] ** 2)[:, None] - inv_a2
    tmp = np.empty_like(x)
    norm = np.multiply(x, x)  # |p|^2 = x^2 + y^2 + 1, also |d|^2 for the range
    np.multiply(y, y, out=tmp)
    norm += tmp
    norm += 1.0
    a = np.multiply(x, polar[:, 0])
    np.multiply(y, polar[:, 1], out=tmp)
    a += tmp
    a += polar[:, 2]
    a *= a
    a *= kappa
    np.multiply(norm, inv_a2, out=tmp)
    a += tmp
    h = np.multiply(x, g[:, 0])  # h = g . p
    np.multiply(y, g[:, 1], out=tmp)
    h += tmp
    h += g[:, 2]
    t = np.multiply(h, h)  # the near root: t = -(h + sqrt(h^2 - a c)) / a
    np.multiply(a, frames.c, out=tmp)
    t -= tmp
    with np.errstate(invalid="ignore"):
        np.sqrt(t, out=t)  # NaN where the ray passes the ground by
    t += h
    np.negative(a, out=a)
    t /= a
    slant = np.sqrt(norm, out=norm)  # the slant range t |d|
    slant *= t
    outside = np.greater(slant, max_range)  # too far, or (t <= 0) behind the camera
    outside |= slant <= 0
    np.copyto(t, np.nan, where=outside)
    np.copyto(slant, np.nan, where=outside)
    under = frames.c[:, 0] <= 0  # a camera under the ground sees none
    t[under], slant[under] = np.nan, np.nan
    return x, y, t, slant


def _along_rays(
    rotation: np.ndarray, x: np.ndarray, y: np.ndarray, t: np.ndarray, origin: np.ndarray | None
) -> list[np.ndarray]:
    """origin + t R [x, y, 1] for rotations R (N, 3, 3) as three (N, M) arrays, in the layout
    of x (in place, one scratch array); NaN where t is NaN."""
    tmp = np.empty_like(x)
    points = []
    for i in range(3):
        value = np.multiply(x, rotation[:, i, 0, None])
        np.multiply(y, rotation[:, i, 1, None], out=tmp)
        value += tmp
        value += rotation[:, i, 2, None]
        value *= t
        if origin is not None:
            value += origin[:, i, None]
        points.append(value)
    return points


def _ecef_points(frames: _Frames, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> list:
    """ECEF coordinates (three (N, M) arrays) of origin + t d, NaN where t is NaN."""
    return _along_rays(frames.rotation, x, y, t, frames.origin)


def _ground_hits(
    camera: Intrinsics, poses: Poses, u: np.ndarray, v: np.ndarray, max_range: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, _Frames]:
    """`_hits` for pixels (M,) or (N, M) at N poses, and the frames used."""
    u, v = _grid(poses, u, v)
    frames = _Frames.of(camera, poses)
    return (*_hits(camera, frames, u, v, max_range), frames)


PARALLEL_PIXELS = 200_000  # above this many pixels per pose, split them over the cores


def _split_pixels(project: Callable) -> Callable:
    """Run a projection on slices of the pixel axis in threads (numpy and pyproj release the
    GIL) when there are many pixels; the results are joined back in order."""

    @functools.wraps(project)
    def run(
        camera: Intrinsics, poses: Poses, u: np.ndarray, v: np.ndarray, max_range: float
    ) -> dict[str, np.ndarray]:
        u, v = np.asarray(u, float), np.asarray(v, float)
        workers = os.cpu_count() or 1
        if workers == 1 or u.shape[-1] < PARALLEL_PIXELS:
            return project(camera, poses, u, v, max_range)
        bounds = np.linspace(0, u.shape[-1], workers + 1).astype(int)
        slices = [slice(a, b) for a, b in itertools.pairwise(bounds)]
        with ThreadPoolExecutor(workers) as pool:
            parts = list(
                pool.map(lambda k: project(camera, poses, u[..., k], v[..., k], max_range), slices)
            )
        return {key: np.concatenate([p[key] for p in parts], axis=-1) for key in parts[0]}

    return run


@_split_pixels
def project_pixels(
    camera: Intrinsics, poses: Poses, u: np.ndarray, v: np.ndarray, max_range: float
) -> dict[str, np.ndarray]:
    """Ground point (lon, lat, h) and slant range of pixels, (N, M); NaN where there is none."""
    x, y, t, slant, frames = _ground_hits(camera, poses, u, v, max_range)
    lon, lat, h = geodetic_from_ecef(*_ecef_points(frames, x, y, t))
    return {"lon": lon, "lat": lat, "h": h, "range": slant}


def project_pixels_enu(
    camera: Intrinsics, poses: Poses, u: np.ndarray, v: np.ndarray, max_range: float
) -> dict[str, np.ndarray]:
    """Ground points of pixels as east, north, up metres from each camera (N, M), the same
    hits as `project_pixels` (on the ellipsoid, not a plane) without the geodetic conversion:
    what a client working in local metres (as cameratransform's `spaceFromImage`) needs."""
    x, y, t, slant, _ = _ground_hits(camera, poses, u, v, max_range)
    rotation = camera_to_enu(poses.yaw, poses.pitch, poses.roll)
    east, north, up = _along_rays(rotation, x, y, t, None)
    return {"east": east, "north": north, "up": up, "range": slant}


def unproject_points(
    camera: Intrinsics, poses: Poses, lon: np.ndarray, lat: np.ndarray, h: np.ndarray
) -> dict[str, np.ndarray]:
    """Pixel (u, v) of ground points, (N, M), with `in_front` and `in_frame` flags."""
    x, y, z = ecef().transform(lon, lat, h)
    target = np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1)
    target = (
        np.broadcast_to(target, (len(poses), *target.shape[-2:])) if target.ndim == 2 else target
    )
    vector = target - camera_ecef(poses)[:, None, :]
    local = np.einsum("nji,nmj->nmi", _camera_to_ecef(poses), vector)  # ECEF -> camera
    depth = local[..., 2]
    in_front = depth > 0
    safe = np.where(in_front, depth, np.nan)
    xd, yd = distort(camera, local[..., 0] / safe, local[..., 1] / safe)
    fx, fy = _focal(camera, poses)
    u = xd * fx[:, None] + camera.cx
    v = yd * fy[:, None] + camera.cy
    in_frame = in_front & (u >= 0) & (u < camera.width) & (v >= 0) & (v < camera.height)
    return {"u": u, "v": v, "in_front": in_front, "in_frame": in_frame, "depth": depth}


def outline_pixels(camera: Intrinsics, per_edge: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Pixels along the frame's border, clockwise from the top-left corner (4 * per_edge)."""
    w, h = float(camera.width), float(camera.height)
    s = np.linspace(0.0, 1.0, per_edge, endpoint=False)
    u = np.concatenate([s * w, np.full_like(s, w), w - s * w, np.zeros_like(s)])
    v = np.concatenate([np.zeros_like(s), s * h, np.full_like(s, h), h - s * h])
    return u, v


def _outline_and_centre(camera: Intrinsics, per_edge: int) -> tuple[np.ndarray, ...]:
    """The border pixels, then those plus the principal point and its right and lower
    neighbours (for the GSD)."""
    border_u, border_v = outline_pixels(camera, per_edge)
    u = np.concatenate([border_u, [camera.cx, camera.cx + 1, camera.cx]])
    v = np.concatenate([border_v, [camera.cy, camera.cy, camera.cy + 1]])
    return border_u, border_v, u, v


def _pull_in(
    camera: Intrinsics,
    border_u: np.ndarray,
    border_v: np.ndarray,
    sees: Callable[[np.ndarray, np.ndarray], np.ndarray],
    steps: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Border pixels that see nothing, moved towards the principal point by bisection (all at
    once) to the last pixel on the way that `sees` ground; returns their u, v."""
    low, high = np.zeros(border_u.size), np.ones(border_u.size)  # fraction towards the centre
    du, dv = camera.cx - border_u, camera.cy - border_v
    for _ in range(steps):
        middle = (low + high) / 2
        hit = sees(border_u + du * middle, border_v + dv * middle)
        high, low = np.where(hit, middle, high), np.where(hit, low, middle)
    return border_u + du * high, border_v + dv * high


@dataclass
class Footprints:
    """Per pose: the ground outline (N, K) and facts; poses that see no ground are invalid."""

    lon: np.ndarray
    lat: np.ndarray
    partial: np.ndarray
    valid: np.ndarray
    center_ground: np.ndarray  # (N, 2) lon, lat seen by the principal point (NaN: none)
    gsd_m: np.ndarray  # ground sampling distance at the frame centre (NaN: none)


def footprints(
    camera: Intrinsics, poses: Poses, max_range: float, per_edge: int = 4, steps: int = 20
) -> Footprints:
    """Frame outlines on the ground for N poses, clipped at the horizon / max range.

    The outline samples `per_edge` pixels along each edge (corners included). A border pixel
    whose ray misses is moved towards the principal point (a vectorised bisection in the
    image) until it sees ground within range; such footprints are `partial`. A pose whose
    principal point sees no ground has no footprint. Rotations and camera positions are
    computed once for all poses; the geodetic conversion (pyproj) covers the outline and the
    centre only, the GSD coming from the ECEF distances to the centre's neighbours.
    """
    border_u, border_v, u, v = _outline_and_centre(camera, per_edge)
    k = border_u.size
    frames = _Frames.of(camera, poses)
    x, y, t, _ = _hits(camera, frames, *_grid(poses, u, v), max_range)
    missing = np.isnan(t[:, :k])
    if missing.any():
        rows, cols = np.nonzero(missing)
        sub = frames.take(rows)

        def sees(pu: np.ndarray, pv: np.ndarray) -> np.ndarray:
            return ~np.isnan(_hits(camera, sub, pu[:, None], pv[:, None], max_range)[2][:, 0])

        pu, pv = _pull_in(camera, border_u[cols], border_v[cols], sees, steps)
        xs, ys, ts, _ = _hits(camera, sub, pu[:, None], pv[:, None], max_range)
        x[rows, cols], y[rows, cols], t[rows, cols] = xs[:, 0], ys[:, 0], ts[:, 0]
    points = _ecef_points(frames, x, y, t)
    lon, lat = geodetic_from_ecef(*(p[:, : k + 1] for p in points), height=False)
    valid = ~np.isnan(lon[:, :k]).any(axis=1) & ~np.isnan(t[:, k:]).any(axis=1)
    right = np.sqrt(sum((p[:, k + 1] - p[:, k]) ** 2 for p in points))
    down = np.sqrt(sum((p[:, k + 2] - p[:, k]) ** 2 for p in points))
    return Footprints(
        lon=np.where(valid[:, None], lon[:, :k], np.nan),
        lat=np.where(valid[:, None], lat[:, :k], np.nan),
        partial=missing.any(axis=1) & valid,
        valid=valid,
        center_ground=np.stack([lon[:, k], lat[:, k]], -1),
        gsd_m=np.sqrt(right * down),  # NaN where the centre or a neighbour sees nothing
    )


def intersect_terrain(
    origin: np.ndarray,
    rays: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    terrain: Callable[[np.ndarray, np.ndarray], np.ndarray],
    step: float,
    refine: int = 30,
) -> np.ndarray:
    """Distance along each ray to its first crossing of a terrain surface; NaN for none.

    Each ray (origin (N, 3), rays (N, M, 3) unit vectors, ECEF) is marched every `step`
    metres from `start` (where it comes down to the terrain's highest height; NaN: never) to
    `end` (where it reaches the lowest); the first step that ends below the terrain (heights
    from `terrain(lon, lat)`, NaN where unknown) is refined by bisection.
    """
    t_hit = np.full(rays.shape[:2], np.nan)
    previous = start.copy()
    k = 1
    while True:
        t = start + k * step
        active = np.isnan(t_hit) & ~np.isnan(start) & (previous < end)
        if not active.any():
            break
        rows, cols = np.nonzero(active)
        reach = np.minimum(t[rows, cols], end[rows, cols])
        below = _below(origin[rows], rays[rows, cols], reach, terrain)
        if below.any():
            hit_rows, hit_cols = rows[below], cols[below]
            low, high = previous[hit_rows, hit_cols], reach[below]
            for _ in range(refine):
                middle = (low + high) / 2
                under = _below(origin[hit_rows], rays[hit_rows, hit_cols], middle, terrain)
                high, low = np.where(under, middle, high), np.where(under, low, middle)
            t_hit[hit_rows, hit_cols] = high
        previous[rows, cols] = reach
        k += 1
    return t_hit


def _below(
    origin: np.ndarray,
    rays: np.ndarray,
    t: np.ndarray,
    terrain: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Whether origin + t * ray is at or under the terrain (False where it is unknown).

    A micrometre of slack: the march's last point lies on the lowest height by construction,
    and the geodetic round trip must not put it a hair above a terrain at that height."""
    points = origin + rays * t[:, None]
    lon, lat, h = geodetic_from_ecef(points[:, 0], points[:, 1], points[:, 2])
    return h <= terrain(lon, lat) + 1e-6


def project_pixels_on_terrain(
    camera: Intrinsics,
    poses: Poses,
    u: np.ndarray,
    v: np.ndarray,
    max_range: float,
    terrain: Callable[[np.ndarray, np.ndarray], np.ndarray],
    heights: tuple[float, float],
    step: float = 1.0,
) -> dict[str, np.ndarray]:
    """Like `project_pixels`, but against a terrain model (a DEM) instead of a level ground.

    `heights` = (lowest, highest) of the terrain: a ray is marched only between the level
    surfaces at those heights (a camera below the highest starts marching at once)."""
    low_h, high_h = heights

    def slant_to(height: float) -> np.ndarray:
        level = replace(poses, ground=np.full(len(poses), height))
        return _ground_hits(camera, level, u, v, max_range)[3]

    origin = camera_ecef(poses)
    start = slant_to(high_h)
    camera_h = np.asarray(poses.height, dtype=float)
    start = np.where(np.isnan(start) & (camera_h <= high_h)[:, None], 0.0, start)
    end = slant_to(low_h)
    end = np.where(np.isnan(end), max_range, end)
    rays = pixel_rays(camera, poses, u, v)
    t = intersect_terrain(origin, rays, start, end, terrain, step)
    lon, lat, h = _geodetic(origin, rays, t)
    return {"lon": lon, "lat": lat, "h": h, "range": t}


def footprint_on_terrain(
    camera: Intrinsics,
    pose: Poses,
    max_range: float,
    terrain: Callable[[np.ndarray, np.ndarray], np.ndarray],
    heights: tuple[float, float],
    per_edge: int = 4,
    steps: int = 16,
) -> Footprints:
    """`footprints` for one pose against a terrain model: the outline's rays marched to the
    DEM; a border pixel that meets nothing within range is moved towards the principal point
    by bisection (all such pixels at once), and the footprint is then `partial`."""
    border_u, border_v, u, v = _outline_and_centre(camera, per_edge)
    k = border_u.size

    def project(pu: np.ndarray, pv: np.ndarray) -> dict[str, np.ndarray]:
        return project_pixels_on_terrain(camera, pose, pu, pv, max_range, terrain, heights)

    ground = project(u, v)
    lon, lat = ground["lon"][0], ground["lat"][0]
    missing = np.isnan(lon[:k])
    if missing.any() and not np.isnan(lon[k]):
        cols = np.flatnonzero(missing)
        pu, pv = _pull_in(
            camera,
            border_u[cols],
            border_v[cols],
            lambda pu, pv: ~np.isnan(project(pu, pv)["lon"][0]),
            steps,
        )
        final = project(pu, pv)
        lon[cols], lat[cols] = final["lon"][0], final["lat"][0]
    valid = not np.isnan(lon[: k + 1]).any()
    gsd = np.nan
    if not np.isnan(lon[k:]).any():
        _, _, dx = WGS84.inv(lon[k], lat[k], lon[k + 1], lat[k + 1])
        _, _, dy = WGS84.inv(lon[k], lat[k], lon[k + 2], lat[k + 2])
        gsd = float(np.sqrt(dx * dy))
    return Footprints(
        lon=(lon[:k] if valid else np.full(k, np.nan))[None, :],
        lat=(lat[:k] if valid else np.full(k, np.nan))[None, :],
        partial=np.array([bool(missing.any()) and valid]),
        valid=np.array([valid]),
        center_ground=np.array([[lon[k], lat[k]]]),
        gsd_m=np.array([gsd]),
    )
