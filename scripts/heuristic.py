"""Measure the heuristic controller's success on LunarLanding-v0 or CityDriving-v0.

Examples: ``exgen heuristic --gravity 0.5 1.62 9.81 24.79 --preset strong_wind --seeds 100``
and ``exgen heuristic --world city --preset wet left_hand roadworks --seeds 100``
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

import gymnasium as gym
import numpy as np

import exgen  # noqa: F401  (registers the env ids)
from exgen.agents.evaluation import evaluate_policy
from exgen.agents.seeds import DEVELOPMENT_SEEDS
from exgen.envs.city.heuristic import drive
from exgen.envs.lunar.heuristic import heuristic_action
from exgen.scripts.inputs import check_env_kwargs, input_errors

NAME = "heuristic"


def _our_heuristic(env: gym.Env, observation: np.ndarray) -> Any:
    return heuristic_action(observation, env.unwrapped.continuous)


def _gymnasium_heuristic(env: gym.Env, observation: np.ndarray) -> Any:
    from gymnasium.envs.box2d.lunar_lander import heuristic  # needs the bench extra

    return heuristic(env, observation)


def _city_driver(env: gym.Env, observation: np.ndarray) -> Any:
    return drive(observation, env.unwrapped.lidar_rays, env.unwrapped.config.driving_side)


CONTROLLERS = {"ours": _our_heuristic, "gymnasium": _gymnasium_heuristic}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--world", choices=("lunar", "city"), default="lunar",
                        help="lunar: the landing heuristics; city: the heuristic driver of "
                             "CityDriving-v0 on the default city and each preset")
    parser.add_argument("--controller", choices=sorted(CONTROLLERS), default="ours",
                        help="lunar: ours (exgen.envs.lunar.heuristic), or Gymnasium's "
                             "LunarLander-v3 heuristic run unchanged (default: ours)")
    parser.add_argument("--gravity", type=float, nargs="*",
                        help="lunar: gravities to test [m/s²] (default: 9.81)")
    parser.add_argument("--preset", nargs="*", default=[],
                        help="presets to test as well, each on its own, e.g. strong_wind")
    parser.add_argument("--seeds", type=int, default=100,
                        help="episodes per context, seeds 0..N-1 (default: 100)")
    parser.add_argument("--continuous", action="store_true", help="continuous actions")
    parser.add_argument("--on-lunar-lander-v3", action="store_true",
                        help="run Gymnasium's heuristic on Box2D LunarLander-v3 instead (its "
                             "gravity range is up to 12 m/s²; success = return >= 200)")


def run(args: argparse.Namespace) -> int:
    if args.world == "city":
        return run_city(args)
    if args.gravity is None:
        args.gravity = [9.81]
    if args.on_lunar_lander_v3:
        return run_on_lunar_lander_v3(args)
    contexts = [(f"gravity {g:g}", {"gravity": g}) for g in args.gravity]
    contexts += [(f"preset {p}", {"preset": p}) for p in args.preset]
    with input_errors():
        _check_seed_count(args.seeds)
        for _, kwargs in contexts:
            check_env_kwargs("LunarLanding-v0", {**kwargs, "continuous": args.continuous})
    mode = "continuous" if args.continuous else "discrete"
    print(f"heuristic {args.controller}, {mode} actions, seeds 0..{args.seeds - 1}")
    print("| context | success | mean return | mean steps | failures |")
    print("| --- | --- | --- | --- | --- |")
    for name, kwargs in contexts:
        stats = evaluate_policy("LunarLanding-v0", CONTROLLERS[args.controller], range(args.seeds),
                                continuous=args.continuous, **kwargs)
        failures = ", ".join(f"{outcome} {count}" for outcome, count in
                             stats.outcomes.most_common() if outcome != "landed")
        print(f"| {name} | {stats.success_rate:.0%} | {stats.mean_return:.1f} | "
              f"{stats.mean_length:.0f} | {failures or '-'} |")
    return 0


def run_on_lunar_lander_v3(args: argparse.Namespace) -> int:
    """Gymnasium's heuristic on its own env, for reference (v3 has no is_success)."""
    with input_errors():
        _check_seed_count(args.seeds)
        bad = [g for g in args.gravity if not 0 < g < 12]
        if bad:
            raise ValueError(f"LunarLander-v3 takes gravity in (0, 12) m/s², got {bad[0]:g}")
    print(f"Gymnasium heuristic on LunarLander-v3, seeds 0..{args.seeds - 1}, "
          f"success = return >= 200")
    print("| gravity | success | mean return |")
    print("| --- | --- | --- |")
    for g in args.gravity:
        stats = evaluate_policy("LunarLander-v3", _gymnasium_heuristic, range(args.seeds),
                                success_return=200.0, gravity=-g,
                                continuous=args.continuous)
        print(f"| {g:g} | {stats.success_rate:.0%} | {stats.mean_return:.1f} |")
    return 0


def city_episodes(seeds: range, **env_kwargs: Any) -> dict[str, Any]:
    """The heuristic driver's arrivals, clean arrivals (no infraction), mean driving
    score, return and length, and outcomes, one episode per seed."""
    env = gym.make("CityDriving-v0", **env_kwargs)
    arrived = clean = 0
    scores, returns, lengths = [], [], []
    outcomes: Counter[str] = Counter()
    for seed in seeds:
        observation, info = env.reset(seed=seed)
        total, steps, done = 0.0, 0, False
        while not done:
            observation, reward, terminated, truncated, info = env.step(
                _city_driver(env, observation))
            total, steps, done = total + float(reward), steps + 1, terminated or truncated
        arrived += bool(info["is_success"])
        clean += bool(info["clean_arrival"])
        scores.append(info["driving_score"])
        returns.append(total)
        lengths.append(steps)
        outcomes[info["outcome"]] += 1
    env.close()
    return {"episodes": len(seeds), "arrived": arrived, "clean": clean,
            "score": float(np.mean(scores)), "return": float(np.mean(returns)),
            "length": float(np.mean(lengths)), "outcomes": outcomes}


def run_city(args: argparse.Namespace) -> int:
    """The heuristic driver on fresh cities (one per seed): default, then each preset.
    Success is arrival without a collision; a clean arrival has no infraction at all."""
    contexts = [("default", {})] + [(f"preset {p}", {"preset": p}) for p in args.preset]
    with input_errors():
        if args.gravity is not None or args.on_lunar_lander_v3 or args.controller != "ours":
            raise ValueError("--world city takes only --preset and --seeds")
        _check_seed_count(args.seeds)
        for _, kwargs in contexts:
            check_env_kwargs("CityDriving-v0", kwargs)
    print(f"heuristic driver (exgen.envs.city.heuristic), a new city per seed, seeds "
          f"0..{args.seeds - 1}")
    print("| context | arrived | clean arrival | driving score | mean return | mean steps "
          "| failures |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, kwargs in contexts:
        stats = city_episodes(range(args.seeds), **kwargs)
        failures = ", ".join(f"{outcome} {count}" for outcome, count in
                             stats["outcomes"].most_common() if outcome != "arrived")
        episodes = stats["episodes"]
        print(f"| {name} | {stats['arrived'] / episodes:.0%} | "
              f"{stats['clean'] / episodes:.0%} | {stats['score']:.3f} | "
              f"{stats['return']:.1f} | {stats['length']:.0f} | {failures or '-'} |")
    return 0


def _check_seed_count(count: int) -> None:
    """Episodes run on seeds 0..count-1, which must stay development seeds."""
    if not 1 <= count <= len(DEVELOPMENT_SEEDS):
        raise ValueError(f"--seeds must be in 1..{len(DEVELOPMENT_SEEDS)} (development "
                         f"seeds), got {count}")
