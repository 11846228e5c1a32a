"""Env steps per second of SB3 PPO training on ``CityDriving-v0``: today's setup against
the batched world.

Each setup trains PPO from scratch on the benchmark city of
:mod:`exgen.envs.city.speed_benchmark` (10 x 10 blocks, 30 cars, 10 pedestrians), with
the city table's interface (discrete actions, the route observation), on the very
``VecEnv`` ``exgen train`` builds (:func:`~exgen.agents.training.training_vec_env`:
give-up, episode log, shaping, public view). Time runs from the start of the second
rollout (the first, with its resets and compilation, is a warm-up) to the start of the
first rollout after ``seconds``: whole rollouts and their updates, so the number is
what a training run gets.

Setups (:data:`SETUPS`): ``today``, the city's PPO table (``hyperparams/ppo.toml``:
256 envs x 64 steps, batch 4096, 4 epochs, the route reward) on ``DummyVecEnv`` with 1
torch thread, as ``exgen train --vec-env dummy`` runs it; ``batched``, the batched world
with a larger-batch table (:data:`LARGE_BATCH`) and 1 torch thread;
``batched-2threads``, the same with 2 (on a busy 2-core machine torch's threads then
wait on each other: a 256 x 128 ``tanh`` took 11 ms instead of 0.2); ``batched-today``,
the city's PPO table on the batched world, as ``exgen train`` runs it by default (the
world's share of the gain); ``route-reward``, the city tuning notes' route-reward table
of try 60 (:data:`ROUTE_REWARD`: the city's table with ``gamma`` 0.99) on the batched
world of its tuning city (:data:`TUNING_CITY`), as ``exgen train`` ran it;
``tuning-city``, the city's PPO table there; ``tuning-city-256``, the same with try 66's
policy and value networks of [256, 256] (:data:`WIDE_NETWORK`), the tuning notes' try 70
measured against it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

#: The measured env and its context: the speed benchmark's city, the table's interface.
ENV_ID = "CityDriving-v0"
#: The larger-batch table's changes to the city's PPO table.
LARGE_BATCH = {"n_envs": 256, "n_steps": 64, "batch_size": 16_384, "n_epochs": 2}
#: The city's PPO table with CaRL's discount, as the city tuning notes' tries 53-60
#: trained it.
ROUTE_REWARD = {"gamma": 0.99}
#: Try 66's networks, which the city's PPO table halved (the tuning notes' try 70).
WIDE_NETWORK = {"policy_kwargs": {"net_arch": [256, 256]}}
#: The city the tuning notes train in, with the city table's interface.
TUNING_CITY = {"map_seed": 10000, "continuous": False, "observe_route": True}


@dataclass(frozen=True)
class Setup:
    """One way to train: how the envs run, changes to the city's PPO table, torch's
    CPU threads, and the city (None: the benchmark city, :func:`city_kwargs`)."""

    vec_env: str
    overrides: dict[str, Any] = field(default_factory=dict)
    torch_threads: int = 1
    description: str = ""
    env_kwargs: dict[str, Any] | None = None


#: The setups :func:`measure_training` knows, by name.
SETUPS = {
    "today": Setup("dummy", {}, 1, "city PPO table (256 envs x 64 steps, batch 4096, "
                                   "4 epochs), DummyVecEnv, 1 torch thread"),
    "batched": Setup("batched", LARGE_BATCH, 1, "batched world, 256 envs x 64 steps, "
                                                "batch 16384, 2 epochs, 1 torch thread"),
    "batched-2threads": Setup("batched", LARGE_BATCH, 2, "as batched, 2 torch threads"),
    "batched-today": Setup("batched", {}, 1, "batched world, city PPO table, "
                                             "1 torch thread"),
    "route-reward": Setup("batched", ROUTE_REWARD, 1, "batched world, tuning city "
                                                      "(map_seed 10000), route-reward "
                                                      "table of try 60, 1 torch thread",
                          TUNING_CITY),
    "tuning-city": Setup("batched", {}, 1, "batched world, tuning city, city PPO table, "
                                           "1 torch thread", TUNING_CITY),
    "tuning-city-256": Setup("batched", WIDE_NETWORK, 1, "as tuning-city with networks "
                                                         "of [256, 256] (try 66)",
                             TUNING_CITY),
}


@dataclass(frozen=True)
class TrainingThroughput:
    """What one setup measured: ``steps`` env steps in ``seconds`` [s] of training,
    over ``rollouts`` whole rollouts with their updates."""

    setup: str
    steps: int
    seconds: float
    rollouts: int

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds


def city_kwargs() -> dict[str, Any]:
    """The benchmark city with the city table's interface."""
    from exgen.envs.city.speed_benchmark import CITY_KWARGS

    return {**CITY_KWARGS, "continuous": False, "observe_route": True}


def measure_training(seconds: float = 15.0, setups: Sequence[str] = ("today", "batched"),
                     seed: int = 0) -> list[TrainingThroughput]:
    """PPO's training throughput on the benchmark city for each of ``setups`` (names in
    :data:`SETUPS`), one after the other in this process, each timed for at least
    ``seconds`` [s] after a warm-up rollout; ``seed`` is the training seed."""
    if seconds <= 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    unknown = [name for name in setups if name not in SETUPS]
    if unknown or not setups:
        raise ValueError(f"setups must name some of {', '.join(SETUPS)}, got {list(setups)}")
    return [_measure(name, SETUPS[name], seconds, seed) for name in setups]


def format_report(results: Sequence[TrainingThroughput]) -> str:
    """One line per setup, then each setup's speed relative to the first."""
    lines = [f"SB3 PPO training on {ENV_ID} (10x10 city, 30 cars, 10 pedestrians, unless "
             f"a setup says)"]
    for result in results:
        lines.append(f"  {result.setup:<14} {result.steps_per_s:>9,.0f} env steps/s "
                     f"({result.steps:,} steps, {result.rollouts} rollouts, "
                     f"{result.seconds:.1f} s): {SETUPS[result.setup].description}")
    first = results[0]
    for result in results[1:]:
        lines.append(f"  {result.setup} / {first.setup}: "
                     f"{result.steps_per_s / first.steps_per_s:.2f}x")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m exgen.agents.training_benchmark [--seconds S] [--setups ...]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="timed training per setup, after a warm-up rollout (default: 15)")
    parser.add_argument("--setups", nargs="+", default=["today", "batched"],
                        choices=list(SETUPS), help="setups to measure; ratios are to the "
                                                   "first (default: today batched)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    args = parser.parse_args(argv)
    print(format_report(measure_training(args.seconds, args.setups, args.seed)))
    return 0


class _RolloutClock(BaseCallback):
    """Marks (time, env steps) at every rollout's start; stops training at the first
    step after ``seconds`` have passed since the end of the warm-up rollout."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.marks: list[tuple[float, int]] = []

    def _on_rollout_start(self) -> None:
        self.marks.append((time.perf_counter(), self.model.num_timesteps))

    def _on_step(self) -> bool:
        return not (len(self.marks) >= 3 and self.marks[-1][0] - self.marks[1][0]
                    >= self.seconds)


def _measure(name: str, setup: Setup, seconds: float, seed: int) -> TrainingThroughput:
    import torch

    from exgen.agents.records import EpisodeLog
    from exgen.agents.registry import make_agent
    from exgen.agents.sb3 import load_hyperparameters
    from exgen.agents.training import RunSpec, training_vec_env

    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as folder:
        spec = RunSpec(agent="ppo", env_id=ENV_ID, out=Path(folder), seed=seed,
                       env_kwargs=setup.env_kwargs or city_kwargs(),
                       hyperparameters=dict(setup.overrides),
                       vec_env=setup.vec_env, torch_threads=setup.torch_threads)
        spec.validate()
        table = {**load_hyperparameters("ppo", ENV_ID), **setup.overrides}
        log = EpisodeLog(folder, ENV_ID)
        vec = training_vec_env(spec, table, log, seed)
        try:
            torch.set_num_threads(setup.torch_threads)
            agent = make_agent("ppo", vec, seed=seed, env_id=ENV_ID,
                               **{k: v for k, v in setup.overrides.items() if k != "n_envs"})
            clock = _RolloutClock(seconds)
            agent.learn(10**12, callback=clock)
        finally:
            torch.set_num_threads(threads)
            vec.close()
            log.close()
    (start, first), (end, last) = clock.marks[1], clock.marks[-1]
    return TrainingThroughput(name, last - first, end - start, len(clock.marks) - 2)


if __name__ == "__main__":
    raise SystemExit(main())
