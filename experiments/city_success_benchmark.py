"""Benchmark the city planner on unseen cities, on held-out seeds.

World ``i`` is the city generated from map seed ``seed + i`` (or, for the ``maps``
variant, the shipped hand-drawn maps in turn), with the variant's context. A fresh
planner drives ``trials`` episodes there, through
:class:`~exgen.agents.public_view.PublicView` (it sees observations, success and the published
map only), learning between them; each trial draws its own start and destination.
Reported: success (arrival without collision) on trial 1 and within the trials, clean
arrival (arrival with no infraction) and the driving score of trial 1 with its
infractions by type, and the compute time of every decision.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

import exgen  # noqa: F401  (registers the env ids)
from exgen.agents.episodes import run_episodes
from exgen.agents.public_view import PublicView
from exgen.agents.registry import make_agent
from exgen.agents.seeds import draw_held_out_seed
from exgen.envs.city.config import shipped_maps
from exgen.envs.city.public import RECORDER_INFO
from exgen.experiments.success_benchmark import Recorder, Timed

ENV_ID = "CityDriving-v0"


@dataclass
class CityResult:
    """One city: each trial's success, outcome, driving score and infractions."""

    name: str
    successes: list[bool]
    outcomes: list[str]
    scores: list[float]
    infractions: list[dict[str, int]]


@dataclass
class CityBenchmark:
    """All cities of one variant, and the per-decision compute times [s]."""

    variant: str
    first_seed: int
    cities: list[CityResult] = field(default_factory=list)
    decision_times: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        first = [c.successes[0] for c in self.cities]
        clean = [c.successes[0] and not any(c.infractions[0].values()) for c in self.cities]
        within = [any(c.successes) for c in self.cities]
        infractions: Counter[str] = Counter()
        for city in self.cities:
            infractions.update({k: v for k, v in city.infractions[0].items() if v})
        times = np.array(self.decision_times)
        return {
            "variant": self.variant, "cities": len(self.cities),
            "seeds": [self.first_seed, self.first_seed + len(self.cities) - 1],
            "success_trial_1": float(np.mean(first)),
            "success_within_trials": float(np.mean(within)),
            "clean_arrival_trial_1": float(np.mean(clean)),
            "driving_score_trial_1": float(np.mean([c.scores[0] for c in self.cities])),
            "infractions_trial_1": dict(sorted(infractions.items())),
            "outcomes_trial_1": dict(Counter(c.outcomes[0] for c in self.cities)),
            "decision_ms": {"median": float(np.median(times) * 1e3),
                            "p99": float(np.quantile(times, 0.99) * 1e3),
                            "max": float(times.max() * 1e3)},
        }


def run_benchmark(variant: str = "default", cities: int = 100, trials: int = 2,
                  seed: int | None = None, **env_kwargs: Any) -> CityBenchmark:
    """Drive ``cities`` unseen cities of the variant ``env_kwargs`` describes.

    ``seed`` is the first held-out seed (drawn at random from 1,000,000 up by default);
    city ``i`` uses seed ``seed + i`` for its map (unless a map file is given) and its
    episodes. ``map_file="shipped"`` cycles through the shipped hand-drawn maps.
    """
    if cities <= 0 or trials <= 0:
        raise ValueError(f"cities and trials must be > 0, got {cities} and {trials}")
    if seed is None:
        seed = draw_held_out_seed(cities)
    result = CityBenchmark(variant, seed)
    maps = shipped_maps()
    for index in range(cities):
        city_seed = seed + index
        kwargs = dict(env_kwargs)
        if kwargs.get("map_file") == "shipped":
            kwargs["map_file"] = maps[index % len(maps)]
        elif "map_file" not in kwargs:
            kwargs["map_seed"] = city_seed
        recorder = Recorder(gym.make(ENV_ID, **kwargs), RECORDER_INFO)
        view = PublicView(recorder)
        planner = make_agent("planner", view)
        outcomes: list[str] = []
        scores: list[float] = []
        infractions: list[dict[str, int]] = []

        def after(record: Any, recorder: Any = recorder, outcomes: list[str] = outcomes,
                  scores: list[float] = scores,
                  infractions: list[dict[str, int]] = infractions) -> bool:
            info = recorder.last_info
            outcomes.append(info.get("outcome", "?"))
            scores.append(float(info.get("driving_score", 0.0)))
            infractions.append(dict(info.get("infractions", {})))
            return True

        records = run_episodes(Timed(planner, result.decision_times), view, trials,
                               seed=city_seed, learn=True, deterministic=True,
                               callback=after, agent_name="planner")
        name = kwargs.get("map_file") or f"map_seed={city_seed}"
        result.cities.append(CityResult(name, [r.is_success for r in records], outcomes,
                                        scores, infractions))
    return result


#: The variants of the city planner's targets: name -> env keyword arguments.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "ice": {"friction": 0.15},
    "left_hand": {"driving_side": "left"},
    "double_traffic": {"traffic_density": 5.0},
    "maps": {"map_file": "shipped"},
    "compact": {"preset": "compact"},
    "van": {"preset": "van"},
    "truck": {"preset": "truck"},
    "short_amber": {"amber_s": 1.0, "all_red_s": 0.0},
}
