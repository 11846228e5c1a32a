"""Where a ``CityDriving-v0`` policy breaks the rules: one CSV row per event.

An event is an infraction as the env counts it (a key of ``info["infractions"]`` that
grew during a step) or an episode's end (``end_<outcome>``, the outcome as
:func:`~exgen.agents.records.outcome_of` records it). Each row holds what the agent's
observation showed after that step and in the 3 s before, read through the published
layout (:mod:`exgen.envs.city.public`), and the agent's last actions.

:class:`EventRecorder` wraps the env that :func:`~exgen.agents.episodes.run_episodes`
plays (``exgen evaluate --events``). Like the episode recorder it sits between the env
and the agent's view, and of ``info`` it reads the recorder's keys only (infractions,
outcome).
"""

from __future__ import annotations

import csv
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from exgen.agents.records import infractions_of, outcome_of
from exgen.envs.city import public
from exgen.envs.city.env import ENV_ID as CITY_ENV_ID
from exgen.envs.city.env import CityDrivingEnv
from exgen.envs.mixture import ContextMixture

#: Columns of the events CSV, in order.
COLUMNS = ("episode", "seed", "time_s", "event", "speed_mps", "speed_3s_before_mps", "light",
           "light_distance_m", "light_distance_3s_before_m", "light_3s", "next_turn",
           "turn_distance_m", "route_left_m", "destination_next", "actions_1s")
#: Decisions in the 3 s that the ``*3s*`` columns look back over.
LOOKBACK_STEPS = round(3.0 / public.DT_S)
#: Decisions between two letters of ``light_3s`` (0.5 s).
LIGHT_SAMPLE_STEPS = round(0.5 / public.DT_S)
#: Actions that ``actions_1s`` lists (those of the last 1 s).
ACTIONS_KEPT = round(1.0 / public.DT_S)
#: A light state's letter in ``light_3s``.
LIGHT_LETTERS = {"green": "G", "amber": "A", "red": "R", "none": "-"}
#: Decimals of the metre and second values written.
DECIMALS = 3


@dataclass(frozen=True)
class Reading:
    """What one observation shows, in SI units; a distance is None where there is
    nothing to measure to, and saturates where the observation's entry does."""

    speed_mps: float
    light: str  #: the next light ahead: green, amber, red or none
    light_distance_m: float | None  #: to that light's stop line
    next_turn: str  #: one of ``public.TURNS``, or none (the destination comes next)
    turn_distance_m: float | None  #: to the edge of that turn's intersection
    route_left_m: float  #: the shortest route left


def city_layout(env: gym.Env) -> dict[str, int]:
    """The observation layout of the ``CityDriving-v0`` env that ``env`` plays now (a
    mixture's current member), with the entries its options append; ValueError for
    another env."""
    inner = env.unwrapped
    if isinstance(inner, ContextMixture):
        inner = inner.current.unwrapped
    if not isinstance(inner, CityDrivingEnv):
        raise ValueError(f"events are logged on {CITY_ENV_ID} only, not on "
                         f"{type(inner).__name__}")
    return public.layout(inner.lidar_rays, inner.observe_context, inner.observe_route,
                         inner.observe_road_users, inner.observe_lead)


def read_observation(observation: np.ndarray | Mapping[str, np.ndarray],
                     index: Mapping[str, int]) -> Reading:
    """The :class:`Reading` of one observation (its ``vector`` with ``observe_raster``)
    of layout ``index``."""
    vector = observation["vector"] if isinstance(observation, Mapping) else observation
    vector = np.asarray(vector, dtype=np.float64)
    turns = vector[index["turn_left"]:index["turn_u"] + 1]
    light = public.observed_light(vector, index) or "none"
    turn = public.TURNS[int(np.argmax(turns))] if turns.any() else "none"
    return Reading(
        speed_mps=float(vector[public.SPEED]) * public.SPEED_SCALE_MPS, light=light,
        light_distance_m=(None if light == "none" else
                          float(vector[index["light_distance"]]) * public.DISTANCE_SCALE_M),
        next_turn=turn,
        turn_distance_m=(None if turn == "none" else
                         float(vector[index["turn_distance"]]) * public.DISTANCE_SCALE_M),
        route_left_m=float(vector[index["route_distance"]]) * public.ROUTE_SCALE_M)


def grown_infractions(before: Mapping[str, int], after: Mapping[str, int]) -> list[str]:
    """The infraction kinds whose counts grew from ``before`` to ``after``, in
    ``after``'s order."""
    return [kind for kind, count in after.items() if count > before.get(kind, 0)]


@dataclass
class EpisodeTrace:
    """One episode so far: its decisions, the readings of its last 3 s (newest last; the
    first is the reset's until 3 s have passed) and its last actions."""

    episode: int  #: index among the recorded episodes, from 0
    seed: int | None  #: the episode's reset seed
    discrete: bool  #: whether actions are indices (else ``[steer, pedal]``)
    steps: int = 0
    readings: deque[Reading] = field(default_factory=lambda: deque(maxlen=LOOKBACK_STEPS + 1))
    actions: deque[Any] = field(default_factory=lambda: deque(maxlen=ACTIONS_KEPT))

    def start(self, reading: Reading) -> None:
        """Keep the reset's reading."""
        self.readings.append(reading)

    def advance(self, action: Any, reading: Reading) -> None:
        """Keep one decision: its action and the reading after it."""
        self.steps += 1
        self.actions.append(np.array(action))  # a copy: an agent may reuse its array
        self.readings.append(reading)

    def back(self, steps: int) -> Reading:
        """The reading ``steps`` decisions ago, or the episode's first if it is younger."""
        return self.readings[max(len(self.readings) - 1 - steps, 0)]

    def row(self, event: str) -> dict[str, Any]:
        """The CSV row of ``event`` after the latest decision."""
        now, before = self.back(0), self.back(LOOKBACK_STEPS)
        return {"episode": self.episode, "seed": "" if self.seed is None else self.seed,
                "time_s": _rounded(self.steps * public.DT_S), "event": event,
                "speed_mps": _rounded(now.speed_mps),
                "speed_3s_before_mps": _rounded(before.speed_mps), "light": now.light,
                "light_distance_m": _rounded(now.light_distance_m),
                "light_distance_3s_before_m": _rounded(before.light_distance_m),
                "light_3s": self.light_letters(), "next_turn": now.next_turn,
                "turn_distance_m": _rounded(now.turn_distance_m),
                "route_left_m": _rounded(now.route_left_m),
                "destination_next": now.next_turn == "none",
                "actions_1s": self.action_text()}

    def light_letters(self) -> str:
        """The light's state every 0.5 s over the last 3 s as letters (G, A, R, - for
        none), oldest first, the latest decision's last."""
        back = range(LOOKBACK_STEPS - LIGHT_SAMPLE_STEPS, -1, -LIGHT_SAMPLE_STEPS)
        return "".join(LIGHT_LETTERS[self.back(steps).light] for steps in back)

    def action_text(self) -> str:
        """The last actions' indices, oldest first, or the last ``[steer, pedal]``."""
        if self.discrete:
            return " ".join(str(int(np.asarray(action).item())) for action in self.actions)
        if not self.actions:
            return ""
        return " ".join(str(_rounded(float(value))) for value in np.ravel(self.actions[-1]))


class EventRecorder(gym.Wrapper):
    """Writes the events of every episode played on a ``CityDriving-v0`` env to the CSV
    at ``path`` (its folder made; rows flushed as they happen) and keeps them in
    ``rows``."""

    def __init__(self, env: gym.Env, path: str | Path) -> None:
        super().__init__(env)
        city_layout(env)  # another env fails before the file is made
        self.discrete = isinstance(env.action_space, gym.spaces.Discrete)
        self.rows: list[dict[str, Any]] = []
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, COLUMNS)
        self._writer.writeheader()
        self._file.flush()
        self._episodes = 0
        self._index: dict[str, int] = {}
        self._trace: EpisodeTrace | None = None
        self._counts: dict[str, int] = {}

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(seed=seed, options=options)
        self._index = city_layout(self.env)  # a mixture's member may have changed
        self._trace = EpisodeTrace(self._episodes, seed, self.discrete)
        self._trace.start(read_observation(observation, self._index))
        self._counts = infractions_of(info)
        self._episodes += 1
        return observation, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._trace.advance(action, read_observation(observation, self._index))
        counts = infractions_of(info)
        events = grown_infractions(self._counts, counts)
        self._counts = counts
        if terminated or truncated:
            events.append(f"end_{outcome_of(info, terminated)}")
        self._write([self._trace.row(event) for event in events])
        return observation, reward, terminated, truncated, info

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """Append ``rows`` to the file and to ``rows``."""
        if rows:
            self._writer.writerows(rows)
            self._file.flush()
            self.rows.extend(rows)

    def close(self) -> None:
        """Close the CSV, then the env."""
        self._file.close()
        super().close()


def summary_lines(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line per event kind with its count, infractions first: for ``red_light``,
    also how many had the destination next and how many came after an amber (an ``A``
    in ``light_3s``)."""
    rows = list(rows)
    counts = Counter(row["event"] for row in rows)
    lines = []
    for event in sorted(counts, key=lambda name: (name.startswith("end_"), name)):
        line = f"events: {event} {counts[event]}"
        if event == "red_light":
            line += " ({} with the destination next, {} on amber->red)".format(
                *_red_light_counts([row for row in rows if row["event"] == event]))
        lines.append(line)
    return lines


def _red_light_counts(rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """Of red-light ``rows``: those with the destination next, those after an amber."""
    return (sum(_is_true(row["destination_next"]) for row in rows),
            sum("A" in row["light_3s"] for row in rows))


def _is_true(value: Any) -> bool:
    """A ``destination_next`` value, as kept (bool) or read back from the CSV (text)."""
    return value is True or value == "True"


def _rounded(value: float | None) -> float | str:
    """``value`` to ``DECIMALS`` places (-0.0 as 0.0), or an empty cell for None."""
    return "" if value is None else round(value, DECIMALS) + 0.0
