"""Export a benchmark: `questions.jsonl` and the images each question needs.

Seeds are generated per flight and task, then chosen so that each task gets the same number
of questions and, within a task, the answers are spread evenly (round robin over the distinct
answers, then the correct option is moved so that A, B, C and D are correct equally often).
Images are rendered in worker processes: the satellite crop as PNG with the marks, boxes,
tracks or grid drawn (Pillow), and the synthetic frame views (the imagery seen through the
camera model) as JPEG, since no video is registered.
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from PIL import Image, ImageDraw
from sqlalchemy import Engine

from app.db.scenes import SceneRef, mosaic_scenes
from app.geometry.camera import Intrinsics
from app.geometry.projection import Poses
from app.questions.crops import Crop
from app.questions.seeds import LETTERS, TASKS, FlightSeeds, generate
from app.settings import Settings

TEMPLATES = {
    "count_in_view": "How many {class_plural} are fully in view in the drone frame?",
    "landmark_in_view": "Which of the landmarks marked A-D on the satellite image can be seen "
    "in the drone frame?",
    "drone_region": "The satellite image is split into four regions marked A-D. In which "
    "region is the drone when it takes this frame?",
    "footprint_box": "Which of the outlines marked A-D on the satellite image is the ground "
    "seen in the drone frame?",
    "start_end_cell": "The satellite image is divided into a 3x3 grid. In which cell did the "
    "flight {which}?",
    "map_direction": "In which map direction is the landmark marked L from the drone?",
    "clock_position": "At what clock position is the landmark marked L, relative to the "
    "drone's direction of travel (12 o'clock is straight ahead)?",
    "distance_band": "How far is the landmark marked L from the point on the ground below "
    "the drone?",
    "approach_recede": "Over these frames, is the drone approaching or moving away from the "
    "landmark marked L?",
    "flown_track": "Which of the tracks marked A-D on the satellite image is the path flown "
    "in this clip? Each track starts at its dot.",
    "turn_sequence": "Which sequence of turns does the drone make in this clip?",
    "landmark_order": "In which order does the drone pass the landmarks marked 1, 2 and 3?",
}
COLOURS = ((255, 59, 48), (0, 122, 255), (255, 204, 0), (52, 199, 89))
MARK = (255, 45, 85)


def question_text(record: dict[str, Any]) -> str:
    """The question of a seed, from its task's template."""
    facts = record["facts"]
    values = {
        "class_plural": f"{facts.get('class', 'landmark')}s",
        "which": "start" if facts.get("which") == "start" else "end",
    }
    return TEMPLATES[record["task"]].format(**values)


def move_answer(record: dict[str, Any], target: int) -> None:
    """Swap the correct option into position `target` (marks and letters follow)."""
    current = record["answer_index"]
    if current == target:
        return
    options = record["options"]
    lettered = "option_details" in record
    if lettered:
        details = record["option_details"]
        details[current], details[target] = details[target], details[current]
        swap = {current: target, target: current}
        for mark in record["imagery"].get("marks", []):
            if "option" in mark and mark["option"] in swap:
                mark["option"] = swap[mark["option"]]
                mark["label"] = LETTERS[mark["option"]]
        record["answer"] = options[target]
    else:
        options[current], options[target] = options[target], options[current]
    record["answer_index"] = target
    record["distractors"] = [o for i, o in enumerate(options) if i != target]


def balanced(records: list[dict[str, Any]], wanted: int, rng: np.random.Generator) -> list[dict]:
    """Up to `wanted` records, taken round robin over the distinct answers (facts-based for
    lettered tasks), then the correct position cycled over the options."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        key = record.get("balance_key") or orjson.dumps(record["answer"]).decode()
        groups[key].append(record)
    keys = sorted(groups)
    keys = [keys[i] for i in rng.permutation(len(keys))]
    chosen: list[dict] = []
    while len(chosen) < wanted and any(groups[k] for k in keys):
        for key in keys:
            if groups[key] and len(chosen) < wanted:
                chosen.append(groups[key].pop(0))
    for i, record in enumerate(chosen):
        move_answer(record, i % len(record["options"]))
    return chosen


def _balance_key(record: dict[str, Any]) -> str | None:
    """What to spread evenly for tasks answered by letter: the fact behind the letter."""
    facts = record["facts"]
    if record["task"] == "drone_region":
        return facts["region"]
    if record["task"] == "flown_track":
        return ",".join(sorted(facts["distractors"]))
    return None


# --- rendering (worker processes) -------------------------------------------------------


@dataclass
class FrameJob:
    """One synthetic frame view: camera, pose, the scene to look at."""

    path: str
    camera: Intrinsics
    pose: Poses
    scene: SceneRef | None


@dataclass
class RenderJob:
    """The images of one question."""

    crop_path: str | None
    crop: dict[str, Any] | None
    scenes: list[SceneRef]
    marks: list[dict[str, Any]]
    grid: int | None
    frames: list[FrameJob] = field(default_factory=list)


_WORKER: dict[str, Any] = {}


def _worker_init(settings: Settings, max_range: float) -> None:
    from app.raster.service import Imagery, configure_gdal

    configure_gdal()
    _WORKER["imagery"] = Imagery(settings)
    _WORKER["max_range"] = max_range


def _draw_geometry(
    draw: ImageDraw.ImageDraw, crop: Crop, geometry: dict, colour: tuple, width: int
) -> tuple[float, float]:
    """Draw a GeoJSON geometry; returns a pixel to put its label at."""
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        col, row = crop.to_pixels(coordinates[0], coordinates[1])
        r = 6
        draw.ellipse((col - r, row - r, col + r, row + r), outline=colour, width=width)
        return float(col) + 8, float(row) - 8
    if kind in ("LineString", "MultiPoint"):
        rings = [coordinates]
    elif kind in ("Polygon", "MultiLineString"):
        rings = coordinates
    elif kind == "MultiPolygon":
        rings = [ring for polygon in coordinates for ring in polygon]
    else:  # GeometryCollection and the like: draw nothing, label at the middle
        return crop.size / 2, crop.size / 2
    label_at = (crop.size / 2, crop.size / 2)
    for n, ring in enumerate(rings):
        xy = np.asarray(ring, dtype=float)
        col, row = crop.to_pixels(xy[:, 0], xy[:, 1])
        draw.line(list(zip(col.tolist(), row.tolist(), strict=True)), fill=colour, width=width)
        if n == 0:
            label_at = (float(col.mean()), float(row.mean()))
    return label_at


def _label(draw: ImageDraw.ImageDraw, at: tuple[float, float], text: str, colour: tuple) -> None:
    col, row = at
    draw.rectangle((col - 9, row - 9, col + 9, row + 9), fill=(0, 0, 0, 180))
    draw.text((col, row), text, fill=colour, anchor="mm", font_size=15)


def draw_marks(image: Image.Image, crop: Crop, marks: list[dict], grid: int | None) -> None:
    """Marks, boxes, tracks (start dot + end arrow) and grid lines on a crop."""
    draw = ImageDraw.Draw(image, "RGBA")
    if grid:
        step = crop.size / grid
        for i in range(1, grid):
            draw.line(((i * step, 0), (i * step, crop.size)), fill=(255, 255, 255, 220), width=2)
            draw.line(((0, i * step), (crop.size, i * step)), fill=(255, 255, 255, 220), width=2)
    for mark in marks:
        option = mark.get("option")
        colour = COLOURS[option % len(COLOURS)] if option is not None else MARK
        at = _draw_geometry(draw, crop, mark["geometry"], colour, 3)
        if mark["kind"] == "track":
            xy = np.asarray(mark["geometry"]["coordinates"], dtype=float)
            col, row = crop.to_pixels(xy[:, 0], xy[:, 1])
            draw.ellipse((col[0] - 6, row[0] - 6, col[0] + 6, row[0] + 6), fill=colour)
            angle = math.atan2(row[-1] - row[-2], col[-1] - col[-2]) if len(col) > 1 else 0.0
            tip = (col[-1], row[-1])
            wings = [
                (col[-1] - 12 * math.cos(angle + s), row[-1] - 12 * math.sin(angle + s))
                for s in (0.5, -0.5)
            ]
            draw.polygon([tip, *wings], fill=colour)
            at = (float(col[0]) + 14, float(row[0]) - 14)
        if mark.get("label"):
            _label(draw, at, mark["label"], colour)


def render(job: RenderJob) -> int:
    """Write a question's images; returns how many files were written."""
    from app.raster.frame import read_crop, render_frame

    imagery, written = _WORKER["imagery"], 0
    if job.crop_path and job.crop:
        crop = Crop.from_json(job.crop)
        pixels = read_crop(imagery, job.scenes, crop.bounds, crop.size)
        image = Image.fromarray(pixels[..., :3])
        draw_marks(image, crop, job.marks, job.grid)
        image.save(job.crop_path, format="PNG", optimize=False, compress_level=3)
        written += 1
    for frame in job.frames:
        if frame.scene is None:
            pixels = np.zeros((1, 1, 4), dtype=np.uint8)
        else:
            pixels = render_frame(
                imagery, frame.scene, frame.camera, frame.pose, 320, _WORKER["max_range"]
            )
        Image.fromarray(pixels[..., :3]).save(frame.path, format="JPEG", quality=85)
        written += 1
    return written


# --- the export ---------------------------------------------------------------------------


def _jobs(engine: Engine, records: list[dict], out: Path, max_range: float) -> list[RenderJob]:
    """What to render for each record (scenes looked up once per record)."""
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    flights: dict[int, FlightSeeds] = {}
    jobs = []
    with engine.connect() as conn:
        for record in records:
            imagery = record["imagery"]
            crop_json = imagery.get("crop")
            scenes: list[SceneRef] = []
            if crop_json:
                scenes = mosaic_scenes(conn, tuple(crop_json["bbox"]), kind=None, interval=None)
                scenes = [s for s in scenes if not _is_dem(conn, s.id)]
            fs = flights.get(record["flight_id"])
            if fs is None:
                fs = flights[record["flight_id"]] = FlightSeeds(
                    conn, record["flight_id"], max_range
                )
            frames = []
            for n, t in enumerate(imagery.get("frames", [])):
                i = int(np.argmin(np.abs(fs.samples["t"] - t)))
                pose = fs.poses.take(np.array([i]))
                lon, lat = float(pose.lon[0]), float(pose.lat[0])
                near = 0.003
                around = mosaic_scenes(
                    conn, (lon - near, lat - near, lon + near, lat + near), kind=None, interval=None
                )
                around = [s for s in around if not _is_dem(conn, s.id)]
                frames.append(
                    FrameJob(
                        str(images / f"{record['id']}_frame{n}.jpg"),
                        fs.camera,
                        pose,
                        around[0] if around else None,
                    )
                )
            crop_path = str(images / f"{record['id']}_crop.png") if crop_json else None
            jobs.append(
                RenderJob(
                    crop_path,
                    crop_json,
                    scenes,
                    imagery.get("marks", []),
                    imagery.get("grid"),
                    frames,
                )
            )
            record["images"] = {
                "crop": None if crop_path is None else f"images/{Path(crop_path).name}",
                "frames": [f"images/{Path(f.path).name}" for f in frames],
            }
    return jobs


_DEM_CACHE: dict[int, bool] = {}


def _is_dem(conn: Any, scene_id: int) -> bool:
    from sqlalchemy import text

    if scene_id not in _DEM_CACHE:
        kind = conn.execute(text("SELECT kind FROM scenes WHERE id = :id"), {"id": scene_id})
        _DEM_CACHE[scene_id] = kind.scalar_one() == "dem"
    return _DEM_CACHE[scene_id]


@dataclass
class ExportSummary:
    """What was written, per task."""

    written: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    answers: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    positions: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    images: int = 0

    def table(self) -> str:
        """A plain-text table: questions, skips and answer spread per task."""
        lines = [f"{'task':<22}{'questions':>10}{'skipped':>9}  answers (most common)  A/B/C/D"]
        for number, (name, _) in TASKS.items():
            answers = ", ".join(f"{a}: {c}" for a, c in self.answers[name].most_common(3))
            spread = "/".join(str(self.positions[name][i]) for i in range(4))
            lines.append(
                f"{number:>2} {name:<19}{self.written[name]:>10}{self.skipped[name]:>9}  "
                f"{answers[:40]:<40}  {spread}"
            )
        lines.append(f"total {sum(self.written.values())} questions, {self.images} images")
        return "\n".join(lines)


def export(
    engine: Engine,
    settings: Settings,
    flight_ids: list[int],
    out: Path,
    *,
    per_task: int,
    seed: int = 0,
    tasks: Iterable[int] = tuple(TASKS),
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write `questions.jsonl` and `images/` under `out` (same seed, same file)."""
    out.mkdir(parents=True, exist_ok=True)
    tasks = list(tasks)
    summary = ExportSummary()
    by_task: dict[int, list[dict]] = defaultdict(list)
    per_flight = max(1, math.ceil(2 * per_task / max(1, len(flight_ids))))
    with engine.connect() as conn:
        for flight_id in flight_ids:
            reply = generate(
                conn, flight_id, tasks, count=per_flight, seed=seed, max_range=settings.max_range_m
            )
            for record in reply["seeds"]:
                record["balance_key"] = _balance_key(record)
                by_task[record["task_number"]].append(record)
            for reason, n in reply["skipped"].items():
                summary.skipped[reason.split(":")[0]] += n
    rng = np.random.default_rng(seed)
    chosen: list[dict] = []
    for number in tasks:
        chosen += balanced(by_task[number], per_task, rng)
    for record in chosen:
        record.pop("balance_key", None)
        record["question"] = question_text(record)
    jobs = _jobs(engine, chosen, out, settings.max_range_m)
    workers = workers or min(4, os.cpu_count() or 1)
    with ProcessPoolExecutor(
        workers, initializer=_worker_init, initargs=(settings, settings.max_range_m)
    ) as pool:
        for written in pool.map(render, jobs, chunksize=8):
            summary.images += written
            if progress:
                progress(1)
    with (out / "questions.jsonl").open("wb") as handle:
        for record in chosen:
            handle.write(orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
            summary.written[record["task"]] += 1
            summary.answers[record["task"]][str(record["answer"])] += 1
            summary.positions[record["task"]][record["answer_index"]] += 1
    return summary
