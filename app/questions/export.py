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
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from PIL import Image
from sqlalchemy import create_engine

from app.db import flights as store
from app.db.footprints import flight_camera, flight_poses
from app.db.scenes import SceneRef, mosaic_scenes
from app.geometry.camera import Intrinsics
from app.geometry.projection import Poses
from app.questions.crops import Crop
from app.questions.drawing import draw_marks
from app.questions.seeds import LETTERS, TASKS, generate
from app.raster.frame import read_crop, render_frame
from app.raster.service import Imagery, configure_gdal
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
FRAME_WIDTH = 256  # synthetic frame views, pixels across


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


# --- worker processes: seeds of one flight, images of one question ---------------------

_WORKER: dict[str, Any] = {}


def _worker_init(database_url: str, settings: Settings) -> None:
    configure_gdal()
    _WORKER["settings"] = settings
    _WORKER["engine"] = create_engine(database_url, pool_size=1)
    _WORKER["imagery"] = Imagery(settings)
    _WORKER["flights"] = {}


def _seeds_of(args: tuple[int, list[int], int, int]) -> dict[str, Any]:
    """Seeds of one flight (in a worker)."""
    flight_id, tasks, count, seed = args
    with _WORKER["engine"].connect() as conn:
        return generate(
            conn,
            flight_id,
            tasks,
            count=count,
            seed=seed,
            max_range=_WORKER["settings"].max_range_m,
        )


def _flight_view(conn: Any, flight_id: int) -> tuple[Intrinsics, dict, Poses, list[SceneRef]]:
    """A flight's camera, samples, poses and the imagery around it, kept for the next jobs
    of the same flight (jobs come sorted by flight)."""
    cache = _WORKER["flights"]
    if flight_id not in cache:
        row = store.get_flight(conn, flight_id)
        samples, poses = flight_poses(conn, row)
        margin = 0.02  # degrees: what an oblique camera sees beyond the path
        bbox = (
            float(samples["lon"].min()) - margin,
            float(samples["lat"].min()) - margin,
            float(samples["lon"].max()) + margin,
            float(samples["lat"].max()) + margin,
        )
        cache.clear()
        cache[flight_id] = (flight_camera(row), samples, poses, _scenes(conn, bbox))
    return cache[flight_id]


def _scenes(conn: Any, bbox: tuple[float, float, float, float]) -> list[SceneRef]:
    """Imagery (not terrain) meeting a bbox, newest first (one GiST query)."""
    return mosaic_scenes(conn, bbox, kind=("satellite", "aerial"), interval=None)


def _covering(scenes: list[SceneRef], lon: float, lat: float) -> SceneRef | None:
    """The first (newest) scene whose bounds hold the point."""
    for scene in scenes:
        west, south, east, north = scene.bounds
        if west <= lon <= east and south <= lat <= north:
            return scene
    return None


def render(job: tuple[dict[str, Any], str]) -> int:
    """Write one question's images (in a worker); returns how many files were written."""
    record, folder = job
    imagery, written = _WORKER["imagery"], 0
    names = record["images"]
    with _WORKER["engine"].connect() as conn:
        crop_json = record["imagery"].get("crop")
        if crop_json:
            crop = Crop.from_json(crop_json)
            pixels = read_crop(imagery, _scenes(conn, tuple(crop.bbox)), crop.bounds, crop.size)
            image = Image.fromarray(pixels[..., :3])
            draw_marks(
                image, crop, record["imagery"].get("marks", []), record["imagery"].get("grid")
            )
            image.save(Path(folder) / names["crop"], format="PNG", compress_level=3)
            written += 1
        if names["frames"]:
            camera, samples, poses, scenes = _flight_view(conn, record["flight_id"])
    for name, t in zip(names["frames"], record["imagery"]["frames"], strict=True):
        i = int(np.argmin(np.abs(samples["t"] - t)))
        pose = poses.take(np.array([i]))
        scene = _covering(scenes, float(pose.lon[0]), float(pose.lat[0]))
        pixels = (
            np.zeros((1, 1, 4), dtype=np.uint8)
            if scene is None
            else render_frame(
                imagery, scene, camera, pose, FRAME_WIDTH, _WORKER["settings"].max_range_m
            )
        )
        Image.fromarray(pixels[..., :3]).save(Path(folder) / name, format="JPEG", quality=85)
        written += 1
    return written


def _name_images(record: dict[str, Any]) -> None:
    crop = record["imagery"].get("crop")
    record["images"] = {
        "crop": f"images/{record['id']}_crop.png" if crop else None,
        "frames": [
            f"images/{record['id']}_frame{n}.jpg"
            for n in range(len(record["imagery"].get("frames", [])))
        ],
    }


@dataclass
class ExportSummary:
    """What was written, per task."""

    written: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    answers: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    positions: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    images: int = 0
    seeds_s: float = 0.0
    images_s: float = 0.0

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
        lines.append(
            f"total {sum(self.written.values())} questions, {self.images} images "
            f"(seeds {self.seeds_s:.0f} s, images {self.images_s:.0f} s)"
        )
        return "\n".join(lines)


def export(
    database_url: str,
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
    workers = workers or min(4, os.cpu_count() or 1)
    (out / "images").mkdir(exist_ok=True)
    with ProcessPoolExecutor(
        workers, initializer=_worker_init, initargs=(database_url, settings)
    ) as pool:
        started = time.perf_counter()
        jobs = [(flight_id, tasks, per_flight, seed) for flight_id in flight_ids]
        for reply in pool.map(_seeds_of, jobs, chunksize=4):
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
            _name_images(record)
        summary.seeds_s = time.perf_counter() - started
        started = time.perf_counter()
        by_flight = sorted(chosen, key=lambda r: (r["flight_id"], r["id"]))  # reuse poses
        for written in pool.map(render, [(r, str(out)) for r in by_flight], chunksize=8):
            summary.images += written
            if progress:
                progress(1)
        summary.images_s = time.perf_counter() - started
    with (out / "questions.jsonl").open("wb") as handle:
        for record in chosen:
            handle.write(orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
            summary.written[record["task"]] += 1
            summary.answers[record["task"]][str(record["answer"])] += 1
            summary.positions[record["task"]][record["answer_index"]] += 1
    return summary
