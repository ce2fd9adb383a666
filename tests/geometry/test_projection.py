"""The camera model against an independent oracle, round trips, horizon and behind-camera rays."""

import numpy as np
import pytest
from pyproj import Geod

from app.geometry.camera import CameraSpecError, from_spec
from app.geometry.cameras import CAMERAS, intrinsics_for, known_model, resolve_camera
from app.geometry.projection import Poses, footprints, project_pixels, unproject_points

lookAtSpheroid = pytest.importorskip("pymap3d.los").lookAtSpheroid
GEOD = Geod(ellps="WGS84")
CAMERA = from_spec({"width": 4000, "height": 3000, "hfov_deg": 80.0})
LENS = from_spec(
    {
        "width": 4000,
        "height": 3000,
        "hfov_deg": 80.0,
        "k1": -0.12,
        "k2": 0.03,
        "p1": 0.001,
        "p2": -0.0007,
        "k3": -0.004,
    }
)


def _enu_direction_of_pixel(camera, pose: Poses, u: float, v: float) -> tuple[float, float]:
    """Azimuth and tilt (from nadir) of a pixel's ray, from our ENU rotation."""
    from app.geometry.projection import camera_to_enu

    x, y = (u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy
    d = camera_to_enu(pose.yaw, pose.pitch, pose.roll)[0] @ np.array([x, y, 1.0])
    azimuth = np.degrees(np.arctan2(d[0], d[1])) % 360
    tilt = np.degrees(np.arccos(-d[2] / np.linalg.norm(d)))
    return float(azimuth), float(tilt)


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"),
    [(0, -90, 0), (45, -90, 0), (30, -45, 0), (200, -30, 0), (90, -60, 0), (310, -20, 0)],
)
def test_principal_ray_matches_pymap3d_lookAtSpheroid(yaw, pitch, roll) -> None:
    pose = Poses.one(8.5, 47.3, 100.0, yaw, pitch, roll, ground=0.0)
    ours = project_pixels(CAMERA, pose, np.array([CAMERA.cx]), np.array([CAMERA.cy]), 1e6)
    lat, lon, distance = lookAtSpheroid(47.3, 8.5, 100.0, yaw, 90 + pitch, deg=True)
    _, _, error = GEOD.inv(lon, lat, ours["lon"][0, 0], ours["lat"][0, 0])
    assert error < 0.5, f"{error:.3f} m from pymap3d"
    assert ours["range"][0, 0] == pytest.approx(distance, abs=0.5)


@pytest.mark.parametrize("roll", [0.0, 8.0, -12.0])
def test_corner_rays_match_pymap3d(roll) -> None:
    pose = Poses.one(-91.99, 46.84, 100.0, 75.0, -50.0, roll, ground=0.0)
    corners = np.array([[0, 0], [4000, 0], [4000, 3000], [0, 3000]], dtype=float)
    ours = project_pixels(CAMERA, pose, corners[:, 0], corners[:, 1], 1e6)
    for i, (u, v) in enumerate(corners):
        azimuth, tilt = _enu_direction_of_pixel(CAMERA, pose, u, v)
        if tilt >= 89.5:
            continue
        lat, lon, _ = lookAtSpheroid(46.84, -91.99, 100.0, azimuth, tilt, deg=True)
        _, _, error = GEOD.inv(lon, lat, ours["lon"][0, i], ours["lat"][0, i])
        assert error < 0.5


def test_axes_follow_the_conventions() -> None:
    nadir = Poses.one(8.5, 47.3, 100.0, 0.0, -90.0, 0.0)
    right_and_down = project_pixels(
        CAMERA,
        nadir,
        np.array([CAMERA.cx + 800, CAMERA.cx]),
        np.array([CAMERA.cy, CAMERA.cy + 800]),
        1e5,
    )
    assert right_and_down["lon"][0, 0] > 8.5, "u to the right is east when facing north"
    assert right_and_down["lat"][0, 1] < 47.3, "v down is south (the bottom of the frame)"
    east = Poses.one(8.5, 47.3, 100.0, 90.0, -45.0, 0.0)
    ahead = project_pixels(CAMERA, east, np.array([CAMERA.cx]), np.array([CAMERA.cy]), 1e5)
    assert ahead["lon"][0, 0] > 8.5 and ahead["lat"][0, 0] == pytest.approx(47.3, abs=1e-6)
    banked = Poses.one(8.5, 47.3, 100.0, 0.0, -90.0, 10.0)  # right side down
    center = project_pixels(CAMERA, banked, np.array([CAMERA.cx]), np.array([CAMERA.cy]), 1e5)
    # right side down tilts the lens to the left: a nadir view moves west (heading north)
    assert center["lon"][0, 0] < 8.5 and center["lat"][0, 0] == pytest.approx(47.3, abs=1e-7)
    _, _, offset = GEOD.inv(8.5, 47.3, center["lon"][0, 0], center["lat"][0, 0])
    assert offset == pytest.approx(100 * np.tan(np.radians(10)), rel=1e-3)


def test_round_trip_within_a_hundredth_of_a_pixel() -> None:
    rng = np.random.default_rng(42)
    for _ in range(25):
        pose = Poses.one(
            rng.uniform(-170, 170),
            rng.uniform(-70, 70),
            rng.uniform(30, 400),
            rng.uniform(0, 360),
            rng.uniform(-90, -25),
            rng.uniform(-15, 15),
            ground=rng.uniform(0, 20),
        )
        u, v = rng.uniform(0, 4000, 300), rng.uniform(0, 3000, 300)
        for camera in (CAMERA, LENS):
            ground = project_pixels(camera, pose, u, v, 1e5)
            hit = ~np.isnan(ground["lon"][0])
            back = unproject_points(camera, pose, ground["lon"], ground["lat"], ground["h"])
            error = np.hypot(back["u"][0][hit] - u[hit], back["v"][0][hit] - v[hit])
            assert error.max() < 0.01
            assert back["in_frame"][0][hit].all()


def test_sky_and_range_give_no_point() -> None:
    level = Poses.one(8.5, 47.3, 100.0, 0.0, 0.0, 0.0)
    top_row = project_pixels(CAMERA, level, np.array([2000.0, 0.0]), np.array([0.0, 0.0]), 5000)
    assert np.isnan(top_row["lon"]).all(), "above the horizon"
    far = project_pixels(
        CAMERA,
        Poses.one(8.5, 47.3, 100.0, 0.0, -3.0, 0.0),
        np.array([2000.0]),
        np.array([1500.0]),
        1000.0,
    )
    assert np.isnan(far["lon"]).all(), "beyond max range is a miss, not a far point"
    underground = Poses.one(8.5, 47.3, 5.0, 0.0, -90.0, 0.0, ground=10.0)
    assert np.isnan(
        project_pixels(CAMERA, underground, np.array([2000.0]), np.array([1500.0]), 1e5)["lon"]
    ).all()


def test_points_behind_the_camera_are_flagged() -> None:
    pose = Poses.one(8.5, 47.3, 100.0, 0.0, -30.0, 0.0)  # looking north
    behind = unproject_points(
        CAMERA, pose, np.array([[8.5]]), np.array([[47.29]]), np.array([[0.0]])
    )
    assert not behind["in_front"][0, 0] and not behind["in_frame"][0, 0]
    ahead = unproject_points(
        CAMERA, pose, np.array([[8.5]]), np.array([[47.3015]]), np.array([[0.0]])
    )
    assert ahead["in_front"][0, 0] and ahead["in_frame"][0, 0]


def test_footprints_nadir_oblique_and_clipped() -> None:
    poses = Poses(
        lon=np.array([8.5, 8.5, 8.5, 8.5]),
        lat=np.array([47.3] * 4),
        height=np.array([100.0] * 4),
        yaw=np.array([0.0, 0.0, 0.0, 0.0]),
        pitch=np.array([-90.0, -45.0, -5.0, 10.0]),
        roll=np.zeros(4),
        ground=np.zeros(4),
    )
    prints = footprints(CAMERA, poses, max_range=5000.0)
    assert list(prints.valid) == [True, True, True, False], "looking up sees no ground"
    assert list(prints.partial[:3]) == [False, False, True], "near-level view is clipped"
    # nadir: the footprint is centred below the camera, 2*h*tan(hfov/2) wide
    ring_lon = prints.lon[0]
    _, _, width = GEOD.inv(ring_lon.min(), 47.3, ring_lon.max(), 47.3)
    assert width == pytest.approx(2 * 100 * np.tan(np.radians(40)), rel=1e-3)
    assert prints.center_ground[0] == pytest.approx([8.5, 47.3], abs=1e-8)
    assert prints.gsd_m[0] == pytest.approx(100 / CAMERA.fx, rel=1e-6)
    n = prints.lon[2].size
    _, _, reach = GEOD.inv(np.full(n, 8.5), np.full(n, 47.3), prints.lon[2], prints.lat[2])
    assert reach.max() <= 5000.0 + 1.0, "clipped at the maximum range"


def test_intrinsics_from_every_description() -> None:
    by_fov = from_spec({"width": 4000, "height": 3000, "hfov_deg": 90})
    assert by_fov.fx == pytest.approx(2000.0)
    by_mm = from_spec({"width": 4000, "height": 3000, "focal_mm": 3.61, "sensor_width_mm": 6.17})
    assert by_mm.fx == pytest.approx(4000 * 3.61 / 6.17)
    by_35 = from_spec({"width": 4000, "height": 3000, "focal35_mm": 24, "zoom": 2})
    assert by_35.fx == pytest.approx(48 * 5000 / np.hypot(36, 24))
    for bad in (
        {"width": 10},
        {"width": 10, "height": 10},
        {"width": 0, "height": 1, "hfov_deg": 5},
        {"width": 10, "height": 10, "hfov_deg": 190},
        {"width": 10, "height": 10, "focal_mm": 3},
    ):
        with pytest.raises(CameraSpecError):
            from_spec(bad)


def test_camera_table() -> None:
    phantom = known_model("FC300S")
    assert phantom is not None and "FOV 94" in phantom.source
    full = intrinsics_for(phantom)
    diagonal_fov = 2 * np.degrees(np.arctan(np.hypot(2000, 1500) / full.fx))
    assert diagonal_fov == pytest.approx(94, abs=1.5), "the table reproduces DJI's FOV figure"
    assert known_model("Mavic Pro") is CAMERAS["FC220"]
    photo = resolve_camera({"model": "FC300S", "width": 4000, "height": 2250}, None)
    assert photo.height == 2250 and photo.fx == pytest.approx(full.fx)
    assert resolve_camera(None, "FC6310R").width == 5472
    assert resolve_camera(None, "unknown") is None
    with pytest.raises(CameraSpecError):
        resolve_camera({"model": "nope"}, None)


def test_ray_marching_meets_the_terrain_first() -> None:
    from app.geometry.projection import project_pixels_on_terrain

    def plateau(lon, lat):
        return np.where(lat > 47.3005, 30.0, np.where(lat < 47.2, np.nan, 0.0))

    oblique = Poses.one(8.5, 47.3, 100.0, 0.0, -30.0, 0.0)
    flat = project_pixels(CAMERA, oblique, np.array([CAMERA.cx]), np.array([CAMERA.cy]), 5000)
    hill = project_pixels_on_terrain(
        CAMERA, oblique, np.array([CAMERA.cx]), np.array([CAMERA.cy]), 5000, plateau, (0.0, 30.0)
    )
    assert flat["range"][0, 0] == pytest.approx(200.0, abs=0.01)
    assert hill["range"][0, 0] == pytest.approx(140.0, abs=0.01), "(100 - 30) / sin 30°"
    assert hill["h"][0, 0] == pytest.approx(30.0, abs=0.01)
    level = Poses.one(8.5, 47.3, 100.0, 0.0, 5.0, 0.0)
    sky = project_pixels_on_terrain(
        CAMERA, level, np.array([CAMERA.cx]), np.array([CAMERA.cy]), 5000, plateau, (0.0, 30.0)
    )
    assert np.isnan(sky["range"]).all(), "a ray that never comes down has no point"


def test_local_metres_agree_with_lon_lat_and_cameratransform() -> None:
    import cameratransform as ct

    from app.geometry.frames import LocalFrame
    from app.geometry.projection import project_pixels_enu

    rng = np.random.default_rng(3)
    u, v = rng.uniform(0, CAMERA.width, 500), rng.uniform(0, CAMERA.height, 500)
    pose = Poses.one(8.5, 47.3, 100.0, 30.0, -70.0, 0.0)
    local = project_pixels_enu(CAMERA, pose, u, v, 5000.0)
    geographic = project_pixels(CAMERA, pose, u, v, 5000.0)
    enu = LocalFrame(8.5, 47.3, 100.0).to_enu(geographic["lon"][0], geographic["lat"][0], 0.0)
    assert np.abs(enu[:, 0] - local["east"][0]).max() < 1e-6
    assert np.abs(enu[:, 1] - local["north"][0]).max() < 1e-6
    assert np.abs(enu[:, 2] - local["up"][0]).max() < 1e-6
    assert np.allclose(local["range"], geographic["range"], rtol=0, atol=1e-6)
    # cameratransform's flat ground agrees near the camera (the earth's curvature aside)
    camera = ct.Camera(
        ct.RectilinearProjection(focallength_px=CAMERA.fx, image=(CAMERA.width, CAMERA.height)),
        ct.SpatialOrientation(elevation_m=100, tilt_deg=20, heading_deg=30, roll_deg=0),
    )
    flat = camera.spaceFromImage(np.column_stack([u, v]))
    near = local["range"][0] < 400
    assert near.sum() > 100
    assert np.abs(flat[near, 0] - local["east"][0][near]).max() < 0.05
    assert np.abs(flat[near, 1] - local["north"][0][near]).max() < 0.05


def test_geodetic_conversion_agrees_with_pyproj() -> None:
    from app.geometry.frames import ecef, geodetic_from_ecef

    rng = np.random.default_rng(11)
    n = 100_000
    lon, lat = rng.uniform(-180, 180, n), rng.uniform(-90, 90, n)
    lat[:3] = [90.0, -90.0, 0.0]  # the poles and the equator
    h = rng.uniform(-10_000, 100_000, n)
    x, y, z = ecef().transform(lon, lat, h)
    ours_lon, ours_lat, ours_h = geodetic_from_ecef(x, y, z)
    their_lon, their_lat, _ = ecef().transform(x, y, z, direction="INVERSE")
    assert np.abs((ours_lon - their_lon + 180) % 360 - 180).max() < 1e-12
    assert np.abs(ours_lat - their_lat).max() < 1e-12
    assert np.abs(ours_lat - lat).max() < 1e-8  # ~1 mm, Bowring's error up to 100 km
    assert np.abs(ours_h - h).max() < 1e-6
    only = geodetic_from_ecef(x, y, z, height=False)
    assert len(only) == 2 and np.array_equal(only[1], ours_lat)
    nan = geodetic_from_ecef(np.array([np.nan]), np.array([0.0]), np.array([0.0]))
    assert all(np.isnan(part[0]) for part in nan)


def test_footprints_of_many_poses_equal_their_pixels_pose_by_pose() -> None:
    """Footprints lay many poses out pose-major; the outline is the same as projecting the
    border pixels one pose at a time (pixel-major), and the GSD is the centre's pixel size."""
    from app.geometry.projection import outline_pixels

    rng = np.random.default_rng(5)
    n = 300
    poses = Poses(
        lon=8.5 + rng.uniform(-0.01, 0.01, n),
        lat=47.3 + rng.uniform(-0.01, 0.01, n),
        height=rng.uniform(50, 400, n),
        yaw=rng.uniform(0, 360, n),
        pitch=rng.uniform(-90, -60, n),
        roll=rng.uniform(-5, 5, n),
        ground=rng.uniform(-50, 50, n),
    )
    prints = footprints(LENS, poses, max_range=5000.0)
    assert prints.valid.all() and not prints.partial.any()
    u, v = outline_pixels(LENS, 4)
    for i in rng.choice(n, 20, replace=False):
        one = poses.take(np.array([i]))
        ground = project_pixels(LENS, one, u, v, 5000.0)
        assert np.abs(prints.lon[i] - ground["lon"][0]).max() < 1e-12
        assert np.abs(prints.lat[i] - ground["lat"][0]).max() < 1e-12
        assert np.abs(ground["h"][0] - poses.ground[i]).max() < 0.02  # on the raised ellipsoid
        centre = project_pixels(
            LENS, one, [LENS.cx, LENS.cx + 1, LENS.cx], [LENS.cy, LENS.cy, LENS.cy + 1], 5000.0
        )
        lon, lat = centre["lon"][0], centre["lat"][0]
        _, _, right = GEOD.inv(lon[0], lat[0], lon[1], lat[1])
        _, _, down = GEOD.inv(lon[0], lat[0], lon[2], lat[2])
        assert prints.center_ground[i] == pytest.approx([lon[0], lat[0]], abs=1e-12)
        assert prints.gsd_m[i] == pytest.approx(np.sqrt(right * down), rel=1e-3)
