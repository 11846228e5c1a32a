"""How fast compare's held-out episodes play: instance by instance, as before, against
the policy batched over single envs in lockstep and over the city's batched world.

``exgen bench held-out --worlds 20 --trials 2`` (or ``python -m
exgen.experiments.held_out_benchmark``) saves a PPO agent of the city table (random
initial weights, deterministic actions) and plays it in ``--worlds`` unseen cities
(``map_seed`` per instance, as new-city's tests) for ``--trials`` each, by every path
in this process, one after the other on one torch thread; it prints env steps per
second, each path's speed against the sequential one, and whether its records equal
the sequential path's (all fields but the wall time).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exgen.agents.records import EpisodeRecord

ENV_ID = "CityDriving-v0"
#: The paths measured, by name: ``play_instances`` arguments.
PATHS = {"sequential": {"batched": False}, "lockstep": {"world": "lockstep"},
         "batched": {"world": "batched"}}
#: First held-out map seed of the benchmark's unseen cities.
FIRST_SEED = 1_000_000


@dataclass(frozen=True)
class PathTiming:
    """One path's play: ``steps`` env steps in ``seconds`` [s], and how many of its
    ``episodes`` records differ from the sequential path's (wall time aside)."""

    path: str
    steps: int
    seconds: float
    episodes: int
    differing: int

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds


def measure(worlds: int = 20, trials: int = 2, paths: Sequence[str] = tuple(PATHS),
            seed: int = 0) -> list[PathTiming]:
    """Each of ``paths`` (names in :data:`PATHS`; the sequential one, the reference,
    is always measured, first) playing ``trials`` episodes in each of ``worlds`` unseen cities
    with a PPO agent of initial weights drawn from ``seed``."""
    import torch

    from exgen.experiments.held_out import play_instances

    unknown = [name for name in paths if name not in PATHS]
    if unknown or worlds < 1 or trials < 1:
        raise ValueError(f"paths must name some of {', '.join(PATHS)}, worlds and trials "
                         f"must be >= 1; got {list(paths)}, {worlds}, {trials}")
    order = ["sequential", *(name for name in paths if name != "sequential")]
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        model = _saved_agent(Path(folder), seed)
        instances = [{**interface(), "map_seed": FIRST_SEED + i} for i in range(worlds)]
        timings, reference = [], None
        for name in order:
            started = time.perf_counter()
            played = play_instances(ENV_ID, model, instances, FIRST_SEED, trials,
                                    agent_name="ppo", learn=True, **PATHS[name])
            seconds = time.perf_counter() - started
            records = [_timeless(r) for trials_of in played for r in trials_of]
            reference = records if reference is None else reference
            timings.append(PathTiming(name, sum(r.length for r in records), seconds,
                                      len(records),
                                      sum(a != b for a, b in zip(records, reference,
                                                                 strict=True))))
    return timings


def interface() -> dict[str, object]:
    """The city PPO agents' interface in new-city: discrete actions, the route."""
    return {"continuous": False, "observe_route": True}


def format_report(timings: Sequence[PathTiming], worlds: int, trials: int) -> str:
    """One line per path, then each path's speed against the first (sequential)."""
    lines = [f"held-out episodes of PPO (city table, initial weights) in {worlds} unseen "
             f"cities x {trials} trials, 1 torch thread"]
    for t in timings:
        lines.append(f"  {t.path:<10} {t.steps_per_s:>9,.0f} env steps/s ({t.steps:,} "
                     f"steps, {t.seconds:.1f} s), records differing from sequential: "
                     f"{t.differing} of {t.episodes}")
    first = timings[0]
    for t in timings[1:]:
        lines.append(f"  {t.path} / {first.path}: {t.steps_per_s / first.steps_per_s:.2f}x")
    return "\n".join(lines)


def _saved_agent(folder: Path, seed: int) -> Path:
    """A PPO agent of the city table, saved where ``load_trained_agent`` finds it."""
    import gymnasium as gym

    from exgen.agents.sb3 import SB3Agent

    agent = SB3Agent(gym.make(ENV_ID, **interface()), "ppo", seed=seed, batch_size=64)
    agent.save(folder / "model.zip")
    (folder / "run.json").write_text(json.dumps({"agent": "ppo"}), encoding="utf-8")
    return folder / "model.zip"


def _timeless(record: EpisodeRecord) -> EpisodeRecord:
    return dataclasses.replace(record, wall_time=0.0)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m exgen.experiments.held_out_benchmark [--worlds N] [--trials K]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=20, help="unseen cities (default: 20)")
    parser.add_argument("--trials", type=int, default=2, help="trials per city (default: 2)")
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=list(PATHS),
                        help="paths to measure besides sequential, which ratios are to "
                             "(default: all)")
    parser.add_argument("--seed", type=int, default=0, help="the agent's seed (default: 0)")
    args = parser.parse_args(argv)
    print(format_report(measure(args.worlds, args.trials, args.paths, args.seed),
                        args.worlds, args.trials))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
