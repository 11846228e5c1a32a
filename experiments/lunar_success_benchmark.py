"""Benchmark the lunar planner on random unseen worlds, on held-out seeds.

Each world draws its gravity uniformly from a range (other fields fixed by the
variant); a fresh planner gets ``trials`` episodes in it, through
:class:`~exgen.agents.public_view.PublicView`, learning between them. Reported: success on
trial 1 and within the trials, trials to first success, the gravity estimate's error
after trial 1, and the compute time of every decision.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

import exgen  # noqa: F401  (registers the env ids)
from exgen.agents.episodes import run_episodes
from exgen.agents.public_view import PublicView
from exgen.agents.registry import make_agent
from exgen.agents.seeds import draw_held_out_seed
from exgen.envs.lunar.public import DT_S, RECORDER_INFO
from exgen.experiments.success_benchmark import Recorder, Timed


@dataclass
class WorldResult:
    """One world: its gravity, each trial's success and outcome, the g estimate."""

    gravity: float
    successes: list[bool]
    outcomes: list[str]
    gravity_estimate: float

    @property
    def trials_to_first_success(self) -> int | None:
        return next((i + 1 for i, s in enumerate(self.successes) if s), None)


@dataclass
class PlannerBenchmark:
    """All worlds of one variant, and the per-decision compute times [s]."""

    variant: str
    first_seed: int
    worlds: list[WorldResult] = field(default_factory=list)
    decision_times: list[float] = field(default_factory=list)

    def success_by_gravity(self, edges: tuple[float, ...] = (0.5, 2, 5, 10, 15, 20, 25)
                           ) -> list[tuple[str, int, float, float]]:
        """``(bin, worlds, trial-1 success, success within the trials)`` per gravity bin."""
        rows = []
        for low, high in itertools.pairwise(edges):
            inside = [w for w in self.worlds if low <= w.gravity < high or (
                high == edges[-1] and w.gravity == high)]
            if inside:
                rows.append((f"{low:g}-{high:g}", len(inside),
                             float(np.mean([w.successes[0] for w in inside])),
                             float(np.mean([any(w.successes) for w in inside]))))
        return rows

    def summary(self) -> dict[str, Any]:
        firsts = [w.trials_to_first_success for w in self.worlds]
        errors = [abs(w.gravity_estimate - w.gravity) / w.gravity for w in self.worlds]
        times = np.array(self.decision_times)
        return {
            "variant": self.variant, "worlds": len(self.worlds),
            "seeds": [self.first_seed, self.first_seed + len(self.worlds) - 1],
            "success_trial_1": float(np.mean([w.successes[0] for w in self.worlds])),
            "success_within_trials": float(np.mean([f is not None for f in firsts])),
            "trials_to_first_success": {str(k): sum(f == k for f in firsts)
                                        for k in sorted({f for f in firsts if f}, key=int)}
            | {"never": sum(f is None for f in firsts)},
            "gravity_error_after_trial_1": {"median": float(np.median(errors)),
                                            "p90": float(np.quantile(errors, 0.9)),
                                            "max": float(np.max(errors))},
            "decision_ms": {"median": float(np.median(times) * 1e3),
                            "p99": float(np.quantile(times, 0.99) * 1e3),
                            "max": float(times.max() * 1e3),
                            # The peer: the time one action lasts (a real-time controller's budget).
                            "control_period": DT_S * 1e3,
                            "max_over_control_period": float(times.max() / DT_S)},
        }


def run_benchmark(variant: str = "default", worlds: int = 100, trials: int = 3,
                  seed: int | None = None, gravity: tuple[float, float] = (0.5, 25.0),
                  **env_kwargs: Any) -> PlannerBenchmark:
    """Run ``worlds`` random worlds of ``LunarLanding-v0`` with ``env_kwargs``.

    ``seed`` is the first held-out seed (drawn at random from 1,000,000 up by default);
    world ``i`` uses seed ``seed + i`` for its gravity and its episodes.
    """
    if worlds <= 0 or trials <= 0:
        raise ValueError(f"worlds and trials must be > 0, got {worlds} and {trials}")
    if seed is None:
        seed = draw_held_out_seed(worlds)
    result = PlannerBenchmark(variant, seed)
    for index in range(worlds):
        world_seed = seed + index
        g = float(np.random.default_rng(world_seed).uniform(*gravity))
        recorder = Recorder(gym.make("LunarLanding-v0", gravity=g, **env_kwargs), RECORDER_INFO)
        view = PublicView(recorder)
        planner = make_agent("planner", view)
        estimates: list[float] = []
        outcomes: list[str] = []

        def after(record: Any, planner: Any = planner, recorder: Any = recorder,
                  estimates: list[float] = estimates, outcomes: list[str] = outcomes) -> bool:
            estimates.append(planner.report()["g"])
            outcome = recorder.last_info.get("outcome", "flying")
            outcomes.append("time_limit" if outcome == "flying" else outcome)
            return True

        records = run_episodes(Timed(planner, result.decision_times), view, trials,
                               seed=world_seed, learn=True, callback=after,
                               agent_name="planner")
        result.worlds.append(WorldResult(g, [r.is_success for r in records], outcomes,
                                         estimates[0]))
    return result


#: The variants of the issue's targets: name -> env keyword arguments.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "strong_wind": {"preset": "strong_wind"},
    "observation_noise": {"observation_noise": 0.002},
    "continuous": {"continuous": True},
}
