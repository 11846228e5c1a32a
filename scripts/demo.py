"""Render a scripted episode as a GIF and a PNG: a landing, or a drive across a city.

Examples: ``exgen demo --preset mars strong_wind --seed 3`` and
``exgen demo --world city --preset wet left_hand --seed 1``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym

import exgen  # noqa: F401  (registers the env ids)
from exgen.envs.city.heuristic import drive
from exgen.envs.lunar.heuristic import heuristic_action
from exgen.envs.recording import record_episode, save_gif, save_png
from exgen.scripts.inputs import input_errors

NAME = "demo"
#: Per world: env id, default preset, file stem, and every how many steps a frame.
WORLDS = {"lunar": ("LunarLanding-v0", "earth", "landing", 2),
          "city": ("CityDriving-v0", "dry", "drive", 10)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--world", choices=sorted(WORLDS), default="lunar",
                        help="lunar (a landing) or city (a drive) (default: lunar)")
    parser.add_argument("--out", type=Path, default=Path("demo_output"),
                        help="folder for the GIF and the PNG of the last frame "
                             "(default: demo_output)")
    parser.add_argument("--preset", nargs="*", default=[],
                        help="context presets, e.g. moon strong_wind, or wet left_hand")
    parser.add_argument("--seed", type=int, default=0,
                        help="episode seed; below 10000 for development (default: 0)")


def run(args: argparse.Namespace) -> int:
    env_id, default_preset, stem, every = WORLDS[args.world]
    with input_errors():
        if args.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {args.seed}")
        env = gym.make(env_id, preset=args.preset or default_preset, render_mode="rgb_array")
    if args.world == "city":
        config = env.unwrapped.config
        rays = env.unwrapped.lidar_rays

        def policy(observation):
            return drive(observation, rays, config.driving_side)
    else:
        policy = heuristic_action
    frames, info, total = record_episode(env, policy, seed=args.seed, every=every)
    env.close()
    gif = save_gif(frames, args.out / f"{stem}.gif", fps=env.metadata["render_fps"] / every * 2)
    png = save_png(frames[-1], args.out / f"{stem}.png")
    details = (f"fuel used {info['fuel_used']:.3f} kg" if args.world == "lunar" else
               f"driving score {info['driving_score']:.2f}, infractions {info['infractions']}")
    print(f"outcome {info['outcome']}, success {info['is_success']}, return {total:.1f}, "
          f"{details}")
    print(f"wrote {gif} ({len(frames)} frames) and {png}")
    return 0
