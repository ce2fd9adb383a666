"""Relations, events and question seeds: what question generators call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import ReadEngineDep, SettingsDep
from app.api.flights import flight_instant
from app.api.responses import JSON
from app.db import flights as store
from app.db.relations import flight_events, landmark_order, relations
from app.errors import InvalidInput
from app.geometry.events import EventOptions
from app.questions.seeds import TASKS, generate, task_number

router = APIRouter(tags=["relations and seeds"])


@router.get("/flights/{flight_id}/relation", summary="Where a landmark is from the drone at t")
def relation(
    flight_id: int,
    engine: ReadEngineDep,
    t: Annotated[str, Query(description="t seconds or ISO instant")],
    feature_id: Annotated[int, Query(description="Landmark id")],
    window: Annotated[
        float, Query(gt=0, le=120, description="Seconds either side of t for approach/recede")
    ] = 5.0,
) -> JSON:
    """Ground distance (nearest point and centre), bearing, 8-way map direction, clock
    position relative to the heading of travel, ahead/behind and left/right, and whether the
    drone approaches or recedes over [t - window, t + window]."""
    with engine.connect() as conn:
        at = flight_instant(conn, flight_id, t)
        return JSON(relations(conn, flight_id, at, [feature_id], window=window)[0])


@router.get(
    "/flights/{flight_id}/events", summary="Turns, stops, climbs, landmarks coming into view"
)
def events(
    flight_id: int,
    engine: ReadEngineDep,
    min_turn: Annotated[float, Query(gt=0, le=360, description="Smallest turn, degrees")] = 30.0,
    min_stop: Annotated[float, Query(gt=0, le=3600, description="Shortest stop, s")] = 3.0,
    class_: Annotated[str | None, Query(alias="class", description="Landmark class")] = None,
    limit: Annotated[int, Query(ge=0, le=10_000, description="Landmarks listed")] = 100,
) -> JSON:
    """Events of the whole flight, each with its instants; `landmarks` in the order they
    first came into the stored footprints."""
    options = EventOptions(min_turn=min_turn, min_stop=min_stop)
    with engine.connect() as conn:
        store.get_flight(conn, flight_id)
        found = flight_events(store.load_samples(conn, flight_id), options)
        order = landmark_order(conn, flight_id, class_, limit) if limit else []
    timeline = sorted(
        [{"t": e.get("t", e["t_start"]), **e} for kind in found.values() for e in kind],
        key=lambda e: e["t"],
    )
    return JSON({"flight_id": flight_id, **found, "timeline": timeline, "landmarks": order})


@router.get("/flights/{flight_id}/seeds", summary="Question seeds for the twelve tasks")
def seeds(
    flight_id: int,
    engine: ReadEngineDep,
    settings: SettingsDep,
    task: Annotated[
        str | None,
        Query(description="Task number 1-12 or name; comma-separated; all when absent"),
    ] = None,
    t: Annotated[str | None, Query(description="Instant the seeds are about (optional)")] = None,
    count: Annotated[int, Query(ge=1, le=100, description="Seeds per task")] = 3,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Random seed")] = 0,
) -> JSON:
    """Deterministic for a given `seed`; candidates that would be ambiguous are skipped and
    counted by reason."""
    try:
        tasks = [task_number(p.strip()) for p in task.split(",")] if task else list(TASKS)
    except ValueError as error:
        raise InvalidInput(str(error)) from error
    with engine.connect() as conn:
        at = flight_instant(conn, flight_id, t) if t is not None else None
        reply = generate(
            conn, flight_id, tasks, count=count, seed=seed, at=at, max_range=settings.max_range_m
        )
    reply["emitted"] = len(reply["seeds"])
    reply["skipped_total"] = sum(reply["skipped"].values())
    return JSON(reply)
