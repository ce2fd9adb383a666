"""DJI SRT parsing: every real variant in ../shared/data/srt and the dialects users meet.

The expected counts and first/last coordinates were read from the files by hand.
"""

import math

import pytest

from app.errors import InvalidInput
from app.ingest.srt import parse_srt
from app.ingest.track import COLUMN
from tests.conftest import shared_file

# file: (records kept, dropped, (first lon, lat), (last lon, lat))
REAL_FILES = {
    "air2s.srt": (17, 0, (2.234156, 41.424724), (2.234102, 41.424730)),
    "matrice_300.srt": (381, 0, (-6.1120, 36.6146), (-6.1120, 36.6146)),
    "mavic_air2.srt": (25, 0, (2.162162, 41.420684), (2.162162, 41.420686)),
    "mavic_mini.SRT": (117, 0, (-121.7458, 48.0771), (-121.7476, 48.0775)),
    "mavic_pro.SRT": (468, 0, (149.0251, -20.2533), (149.0251, -20.2532)),
    "mavic_pro_buggy.SRT": (530, 16, (-1.2218, 42.4668), (-1.2217, 42.4668)),
    "mix_p4rtk_mavic2pro.srt": (12, 0, (-59.409424, -34.650200), (-59.409483, -34.651180)),
    "p4_rtk.SRT": (55, 0, (-58.851745, -34.237922), (-58.849196, -34.232349)),
}


def _track(text: str):
    return parse_srt(text.encode()).build()


def _value(track, name: str, index: int = 0) -> float:
    return float(track.rows[index, COLUMN[name]])


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_files_parse_to_the_right_samples(name: str) -> None:
    count, dropped, first, last = REAL_FILES[name]
    track = parse_srt(shared_file("srt", name).read_bytes()).build()
    assert len(track) == count
    assert track.dropped_count == dropped
    assert (_value(track, "lon"), _value(track, "lat")) == pytest.approx(first, abs=1e-9)
    assert (_value(track, "lon", -1), _value(track, "lat", -1)) == pytest.approx(last, abs=1e-9)
    assert _value(track, "t") == 0.0
    assert (track.column("t")[1:] > track.column("t")[:-1]).all()


def test_phantom4_rtk_aircraft_and_gimbal_attitude() -> None:
    track = parse_srt(shared_file("srt", "p4_rtk.SRT").read_bytes()).build()
    # F.PRY (2.7°, -7.0°, 110.1°), G.PRY (-24.4°, 0.0°, 110.4°), H 85.80m on the first record
    assert (_value(track, "pitch"), _value(track, "roll"), _value(track, "yaw")) == (
        2.7,
        -7.0,
        110.1,
    )
    assert _value(track, "gimbal_pitch") == -24.4
    assert _value(track, "gimbal_yaw") == 110.4
    assert _value(track, "alt_takeoff") == 85.80
    assert track.properties["time_source"] == "ingest"  # no date line in this file


def test_wall_clock_from_the_date_line() -> None:
    track = parse_srt(shared_file("srt", "air2s.srt").read_bytes()).build()
    # 2022-08-07 13:40:40,774,808 -> milliseconds 774 then microseconds 808
    assert _value(track, "wall") == pytest.approx(1659879640.774808, abs=1e-6)
    assert _value(track, "alt_msl") == 117.0
    assert _value(track, "focal35_mm") == 24.0  # [focal_len : 240]


def test_matrice_legacy_is_latitude_first() -> None:
    track = parse_srt(shared_file("srt", "matrice_300.srt").read_bytes()).build()
    assert _value(track, "lat") == 36.6146 and _value(track, "lon") == -6.1120
    assert _value(track, "alt_takeoff") == 0.3  # BAROMETER:0.3M


LEGACY = (
    "\ufeff1\r\n00:00:01,000 --> 00:00:02,000\r\nHOME(149.0251,-20.2532) 2017.08.05 14:11:51\r\n"
    "GPS(149.0251,-20.2533,16) BAROMETER:1.9\r\nISO:100 Shutter:60 EV: Fnum:2.2\r\n\r\n"
    "2\r\n00:00:02,000 --> 00:00:03,000\r\nHOME(149.0251,-20.2532) 2017.08.05 14:11:52\r\n"
    "GPS(0.0,0.0,0) BAROMETER:2.0\r\n\r\n"
    "3\r\n00:00:03,000 --> 00:00:04,000\r\nHOME(149.0251,-20.2532) 2017.08.05 14:11:53\r\n"
    "GPS(149.0252,-20.2534,16) BAROMETER:2.5\r\n"
)


def test_legacy_with_bom_crlf_and_a_record_without_fix() -> None:
    track = _track(LEGACY)
    assert len(track) == 2
    assert track.dropped == {"no_gps_fix": 1}
    assert (_value(track, "lon", 1), _value(track, "lat", 1)) == (149.0252, -20.2534)
    assert _value(track, "alt_takeoff", 1) == 2.5
    assert _value(track, "t", 1) == 2.0  # seconds since the first kept sample
    assert _value(track, "wall") == 1501942311.0  # 2017-08-05 14:11:51 UTC


BRACKETED = """1
00:00:00,000 --> 00:00:00,033
<font size="28">FrameCnt: 1, DiffTime: 33ms

2023-03-01 10:00:00.100
[iso: 100] [focal_len: 24.00] [dzoom_ratio: 2.00] [latitude: 41.1] [longtitude: 2.2] [rel_alt: 50.500 abs_alt: 150.250] [gb_yaw: -90.0 gb_pitch: -45.5 gb_roll: 0.5] [drone_yaw: 350.0 drone_pitch: -3.0 drone_roll: 1.5] </font>

2
00:00:00,033 --> 00:00:00,066
<font size="28">FrameCnt: 2, DiffTime: 33ms
2023-03-01 10:00:00.133
[latitude: 41.2] [longitude: 2.3] [rel_alt: 51.0 abs_alt: 151.0] [Drone: Yaw:10.0, Pitch:-2.0, Roll:0.5] [Gimbal: Yaw:20.0, Pitch:-80.0, Roll:0.0] </font>
"""


def test_bracketed_dialects_blank_lines_and_misspelt_longitude() -> None:
    track = _track(BRACKETED)
    assert len(track) == 2
    assert (_value(track, "lon"), _value(track, "lat")) == (2.2, 41.1)
    assert _value(track, "alt_takeoff") == 50.5 and _value(track, "alt_msl") == 150.25
    assert _value(track, "gimbal_yaw") == 270.0  # normalised to [0, 360)
    assert _value(track, "gimbal_pitch") == -45.5
    assert (_value(track, "yaw"), _value(track, "pitch"), _value(track, "roll")) == (
        350.0,
        -3.0,
        1.5,
    )
    assert _value(track, "zoom") == 2.0 and _value(track, "focal35_mm") == 24.0
    assert _value(track, "yaw", 1) == 10.0 and _value(track, "gimbal_pitch", 1) == -80.0
    assert _value(track, "frame", 1) == 2
    assert _value(track, "t", 1) == pytest.approx(0.033)
    assert _value(track, "wall", 1) - _value(track, "wall") == pytest.approx(0.033)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("hello\nworld\n", 1, "no subtitle cues"),
        (LEGACY.replace("00:00:02,000 --> 00:00:03,000", "00:00:02 --> 00:00:03"), 8, "malformed"),
        (
            LEGACY.replace("GPS(149.0252,-20.2534,16)", "GPS(149.0x52,-20.2534,16)"),
            15,
            "unreadable",
        ),
        (BRACKETED.replace("[latitude: 41.2]", "[latitude: 141.2]"), 8, "out of range"),
        (BRACKETED.replace("[latitude: 41.2] [longitude: 2.3]", ""), 8, "no GPS position"),
    ],
    ids=["not-srt", "bad-cue", "bad-number", "out-of-range", "no-position"],
)
def test_malformed_files_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(InvalidInput) as error:
        _track(text)
    assert error.value.detail.startswith(f"line {line}:"), error.value.detail
    assert words in error.value.detail


def test_a_one_hour_30fps_file_round_trips() -> None:
    from app.synthetic.flights import to_srt, transect

    flight = transect((2.17, 41.39), [(0, 1000), (90, 500)], speed=12.0, fps=30.0)
    track = _track(to_srt(flight))
    assert len(track) == len(flight)
    assert track.column("lon") == pytest.approx(flight.lon, abs=1e-7)
    assert track.column("lat") == pytest.approx(flight.lat, abs=1e-7)
    assert track.column("t") == pytest.approx(flight.t, abs=1e-3)
    assert not math.isnan(_value(track, "gimbal_yaw"))
