"""Benchmark env steps per second against Gymnasium's LunarLander-v3 in the same run.

Example: ``exgen bench --steps 20000 --repeats 3 --profile``
"""

from __future__ import annotations

import argparse
import platform

from envs.lunar.benchmark import compare, profile_components
from scripts.inputs import InputError

NAME = "bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, default=20_000,
                        help="env steps per measurement (default: 20000)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="measurements per env; the best is kept (default: 3)")
    parser.add_argument("--continuous", action="store_true",
                        help="use continuous actions in both envs")
    parser.add_argument("--seed", type=int, default=0, help="action sequence seed")
    parser.add_argument("--profile", action="store_true",
                        help="also print microseconds per step by component")


def run(args: argparse.Namespace) -> int:
    if args.steps < 1 or args.repeats < 1:
        raise InputError(f"--steps and --repeats must be >= 1, got {args.steps} and "
                         f"{args.repeats}")
    mode = "continuous" if args.continuous else "discrete"
    print(f"random {mode} actions, {args.steps} steps, best of {args.repeats}, "
          f"Python {platform.python_version()} on {platform.machine()}")
    ours, peer = compare(args.steps, args.repeats, args.continuous, args.seed)
    for result in (ours, peer):
        if result is not None:
            print(f"{result.env_id:18s} {result.steps_per_second:10,.0f} steps/s "
                  f"{result.microseconds_per_step:7.2f} us/step")
    if peer is None:
        print("LunarLander-v3 unavailable: install the bench extra (gymnasium[box2d])")
    else:
        ratio = ours.steps_per_second / peer.steps_per_second
        print(f"ratio LunarLanding-v0 / LunarLander-v3: {ratio:.2f}x")
    if args.profile:
        print("per-component cost of LunarLanding-v0 [us/step]:")
        for name, micros in profile_components(args.steps, args.continuous,
                                               args.seed).items():
            print(f"  {name:48s} {micros:6.2f}")
    return 0
