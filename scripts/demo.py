"""Render the heuristic pilot landing, as a GIF and a PNG of the last frame.

Example: ``exgen demo --preset mars strong_wind --seed 3 --out demo_output``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym

import envs  # noqa: F401  (registers the env ids)
from envs.lunar.heuristic import heuristic_action
from envs.recording import record_episode, save_gif, save_png
from scripts.inputs import input_errors

NAME = "demo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("demo_output"),
                        help="folder for landing.gif and landing.png (default: demo_output)")
    parser.add_argument("--preset", nargs="*", default=[],
                        help="context presets, e.g. moon strong_wind (default: earth)")
    parser.add_argument("--seed", type=int, default=0,
                        help="episode seed; below 10000 for development (default: 0)")


def run(args: argparse.Namespace) -> int:
    with input_errors():
        if args.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {args.seed}")
        env = gym.make("LunarLanding-v0", preset=args.preset or "earth",
                       render_mode="rgb_array")
    frames, info, total = record_episode(env, heuristic_action, seed=args.seed, every=2)
    env.close()
    gif = save_gif(frames, args.out / "landing.gif", fps=env.metadata["render_fps"] / 2)
    png = save_png(frames[-1], args.out / "landing.png")
    print(f"outcome {info['outcome']}, success {info['is_success']}, return {total:.1f}, "
          f"fuel used {info['fuel_used']:.3f} kg")
    print(f"wrote {gif} ({len(frames)} frames) and {png}")
    return 0
