"""Question seeds and the benchmark export on the demo world (truth from the database)."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.geometry.relations import band_labels, clock, compass8
from app.main import create_app
from app.questions.drawing import COLOURS
from app.questions.export import export, move_answer
from app.questions.seeds import LETTERS, TASKS


@pytest.fixture(scope="module")
def api(world: dict) -> Iterator[TestClient]:
    with TestClient(create_app(world["settings"])) as client:
        yield client


@pytest.fixture(scope="module")
def all_seeds(world: dict, api: TestClient) -> list[dict]:
    seeds = []
    for flight_id in world["flights"].values():
        reply = api.get(f"/flights/{flight_id}/seeds", params={"count": 3, "seed": 11})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["emitted"] == len(body["seeds"])
        assert body["skipped_total"] == sum(body["skipped"].values())
        seeds += body["seeds"]
    return seeds


def test_every_task_makes_seeds(all_seeds: list[dict]) -> None:
    made = Counter(s["task_number"] for s in all_seeds)
    assert set(made) == set(TASKS), made
    for seed in all_seeds:
        options, answer = seed["options"], seed["answer"]
        assert options.count(answer) == 1 and options[seed["answer_index"]] == answer
        assert answer not in seed["distractors"] and len(seed["distractors"]) == len(options) - 1
        assert seed["group"] == TASKS[seed["task_number"]][1]
        assert seed["imagery"].get("frames"), seed["id"]


def _truth_of(seed: dict) -> object:
    """The answer as recomputed from the seed's own facts (never from its options)."""
    facts, task = seed["facts"], seed["task"]
    if task == "count_in_view":
        return sum(1 for f in facts["features"] if f["fraction_in_view"] >= 0.98)
    if task == "map_direction":
        return compass8(facts["bearing_deg"])[0]
    if task == "clock_position":
        return clock(facts["relative_bearing_deg"])[0]
    if task == "distance_band":
        return facts["distance_band"]
    if task == "approach_recede":
        return facts["motion"]["motion"]
    if task == "start_end_cell":
        return facts["cell"]
    if task == "turn_sequence":
        return ", ".join(t["direction"] for t in facts["turns"])
    if task == "landmark_order":
        return ", ".join(p["label"] for p in sorted(facts["passes"], key=lambda p: p["t"]))
    return None


def test_answers_follow_from_the_facts(all_seeds: list[dict]) -> None:
    for seed in all_seeds:
        truth = _truth_of(seed)
        if truth is not None:
            assert seed["answer"] == truth, seed["id"]
        details = seed.get("option_details")
        if details is None:
            continue
        chosen = details[seed["answer_index"]]
        assert seed["answer"] == LETTERS[seed["answer_index"]]
        if seed["task"] == "drone_region":
            assert chosen == {"region": seed["facts"]["region"]}
        if seed["task"] == "footprint_box":
            assert chosen == {"footprint": 0}
        if seed["task"] == "flown_track":
            assert chosen == {"track": "flown"}
        if seed["task"] == "landmark_in_view":
            assert chosen["id"] == seed["facts"]["feature"]["id"]
        labels = sorted(m["label"] for m in seed["imagery"]["marks"] if "option" in m)
        assert labels == list(LETTERS[: len(seed["options"])])


def test_relation_distractors_are_neighbours(all_seeds: list[dict]) -> None:
    for seed in all_seeds:
        if seed["task"] == "map_direction":
            i = compass8(seed["facts"]["bearing_deg"])
            assert seed["facts"]["direction_margin_deg"] >= 3.0 and i[1] >= 3.0
            index = [compass8(k * 45.0)[0] for k in range(8)].index(seed["answer"])
            near = {compass8(((index + d) % 8) * 45.0)[0] for d in (-1, 1)}
            assert near <= set(seed["distractors"])
        if seed["task"] == "distance_band":
            labels = band_labels()
            i = labels.index(seed["answer"])
            assert any(abs(labels.index(d) - i) == 1 for d in seed["distractors"])


def test_answer_does_not_depend_on_option_order(all_seeds: list[dict]) -> None:
    for seed in all_seeds:
        details = seed.get("option_details") or seed["options"]
        truth = details[seed["answer_index"]]
        for target in range(len(seed["options"])):
            moved = copy.deepcopy(seed)
            move_answer(moved, target)
            moved_details = moved.get("option_details") or moved["options"]
            assert moved["answer_index"] == target
            assert moved_details[target] == truth
            assert moved["options"][target] == moved["answer"]
            for mark in moved["imagery"].get("marks", []):
                if "option" in mark:
                    original = next(
                        m for m in seed["imagery"]["marks"] if m["geometry"] == mark["geometry"]
                    )
                    assert moved_details[mark["option"]] == details[original["option"]]


def test_same_seed_same_seeds(world: dict, api: TestClient) -> None:
    flight = world["flights"]["transect"]
    params = {"task": "6,clock_position,10", "count": 2, "seed": 5}
    first = api.get(f"/flights/{flight}/seeds", params=params).json()
    assert first == api.get(f"/flights/{flight}/seeds", params=params).json()
    other = api.get(f"/flights/{flight}/seeds", params={**params, "seed": 6}).json()
    assert other["seeds"] != first["seeds"]
    assert {s["task"] for s in first["seeds"]} == {"map_direction", "clock_position", "flown_track"}


def test_seed_requests_that_are_wrong(world: dict, api: TestClient) -> None:
    flight = world["flights"]["survey"]
    assert api.get(f"/flights/{flight}/seeds", params={"task": "13"}).status_code == 422
    assert api.get(f"/flights/{flight}/seeds", params={"task": "nope"}).status_code == 422
    assert api.get(f"/flights/{flight}/seeds", params={"count": 0}).status_code == 422
    assert api.get(f"/flights/{flight}/seeds", params={"t": 99999}).status_code == 422
    assert api.get("/flights/9999/seeds").status_code == 404
    at = api.get(f"/flights/{flight}/seeds", params={"t": 120, "task": "1,2,6", "count": 1})
    assert all(s["t"] == pytest.approx(120, abs=1) for s in at.json()["seeds"])


def test_orbit_has_no_turn_sequence(world: dict, api: TestClient) -> None:
    reply = api.get(f"/flights/{world['flights']['orbit']}/seeds", params={"task": 11}).json()
    assert reply["seeds"] == []
    assert reply["skipped"] == {"turn_sequence: fewer than two turns in the flight": 1}


def test_export_is_balanced_drawn_and_reproducible(
    world: dict, database_url: str, tmp_path: Path
) -> None:
    flights = list(world["flights"].values())
    first = export(
        database_url, world["settings"], flights, tmp_path / "a", per_task=4, seed=2, workers=2
    )
    second = export(
        database_url, world["settings"], flights, tmp_path / "b", per_task=4, seed=2, workers=1
    )
    text_a = (tmp_path / "a" / "questions.jsonl").read_bytes()
    assert text_a == (tmp_path / "b" / "questions.jsonl").read_bytes()
    records = [orjson.loads(line) for line in text_a.splitlines()]
    assert Counter(r["task"] for r in records) == {name: 4 for name, _ in TASKS.values()}
    assert first.images == second.images > 0
    assert "count_in_view" in first.table()
    for record in records:
        assert record["question"] and record["options"][record["answer_index"]] == record["answer"]
        positions = Counter(r["answer_index"] for r in records if r["task"] == record["task"])
        assert max(positions.values()) - min(positions.values()) <= 2, record["task"]
        for name in [record["images"]["crop"], *record["images"]["frames"]]:
            if name is None:
                continue
            with Image.open(tmp_path / "a" / name) as image:
                image.load()
                pixels = np.asarray(image.convert("RGB"))
            assert pixels.std() > 5, f"{name} has picture content"
        if record.get("option_details"):  # lettered: the marks are drawn in their colours
            with Image.open(tmp_path / "a" / record["images"]["crop"]) as image:
                pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
            for option in range(len(record["options"])):
                colour = np.array(COLOURS[option])
                assert (np.abs(pixels - colour).sum(axis=1) == 0).any(), (record["id"], option)
    motions = Counter(r["answer"] for r in records if r["task"] == "approach_recede")
    assert motions["approaching"] == motions["receding"] == 2


def test_cli_exports_a_benchmark(world: dict, database_url: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    flights = ",".join(str(i) for i in world["flights"].values())
    env = {"PATH": "/usr/bin:/bin", "SKYSPACE_DATABASE_URL": database_url}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "questions",
            "--out",
            str(tmp_path / "b"),
            "--flights",
            flights,
            "--per-task",
            "1",
            "--tasks",
            "6,turn_sequence",
            "--seed",
            "4",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "map_direction" in result.stderr and "wrote" in result.stderr
    records = [
        orjson.loads(line)
        for line in (tmp_path / "b" / "questions.jsonl").read_bytes().splitlines()
    ]
    assert sorted(r["task"] for r in records) == ["map_direction", "turn_sequence"]
    assert all(r["provenance"]["seed"] == 4 and r["provenance"]["flight"] for r in records)
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "questions",
            "--out",
            str(tmp_path / "c"),
            "--tasks",
            "99",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 1 and "unknown task" in bad.stderr
    assert not (tmp_path / "c" / "questions.jsonl").exists()
