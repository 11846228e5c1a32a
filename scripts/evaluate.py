"""Evaluate a trained agent on any context, optionally recording GIFs of its episodes.

Example: ``exgen evaluate runs/ppo-LunarLanding-v0-10000 --preset mars --episodes 50``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import exgen  # noqa: F401  (registers the env ids)
from exgen.agents.episodes import run_episodes
from exgen.agents.seeds import draw_held_out_seed
from exgen.agents.training import load_trained_agent
from exgen.envs.recording import save_gif
from exgen.scripts.inputs import add_env_arguments, check_env_kwargs, env_kwargs, input_errors

NAME = "evaluate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, metavar="RUN",
                        help="a training output folder, or a model file")
    add_env_arguments(parser)
    parser.set_defaults(env=None)
    parser.add_argument("--episodes", type=int, default=20, help="episodes (default: 20)")
    parser.add_argument("--seed", type=int,
                        help="first episode seed (default: drawn from 1,000,000 up)")
    parser.add_argument("--stochastic", action="store_true",
                        help="sample actions instead of the deterministic policy")
    parser.add_argument("--gif", type=Path, help="folder for a GIF of each of the first episodes")
    parser.add_argument("--gif-episodes", type=int, default=3, help="episodes to record")


def run(args: argparse.Namespace) -> int:
    with input_errors():
        if args.episodes <= 0:
            raise ValueError(f"--episodes must be > 0, got {args.episodes}")
        agent, meta = load_trained_agent(args.path)
        env_id = args.env or meta["env_id"]
        kwargs = {**meta.get("env_kwargs", {}),
                  **env_kwargs(args.context, args.preset, args.observe_context,
                               args.observe_fuel)}
        check_env_kwargs(env_id, kwargs)
    seed = args.seed if args.seed is not None else draw_held_out_seed(args.episodes)
    env = gym.make(env_id, **kwargs)
    agent.env = getattr(agent, "env", None) or env
    records = run_episodes(agent, env, seed=range(seed, seed + args.episodes),
                           deterministic=not args.stochastic, agent_name=meta["agent"])
    successes = [r.is_success for r in records]
    print(json.dumps({
        "agent": meta["agent"], "env_id": env_id, "env_kwargs": kwargs,
        "seeds": [seed, seed + args.episodes - 1], "episodes": len(records),
        "success_rate": float(np.mean(successes)),
        "mean_return": float(np.mean([r.episode_return for r in records])),
        "outcomes": {o: sum(r.outcome == o for r in records)
                     for o in sorted({r.outcome for r in records})}}, indent=2, default=str))
    if args.gif:
        record_gifs(agent, env_id, kwargs, seed, args.gif_episodes, args.gif,
                    not args.stochastic)
    return 0


def record_gifs(agent: Any, env_id: str, kwargs: dict[str, Any], seed: int, count: int,
                folder: Path, deterministic: bool) -> None:
    """Write one GIF per episode for the first ``count`` evaluation seeds."""
    from exgen.envs.recording import record_episode

    env = gym.make(env_id, render_mode="rgb_array", **kwargs)
    fps = env.metadata.get("render_fps", 30)

    def policy(observation: np.ndarray) -> Any:
        return agent.predict(observation, deterministic=deterministic)[0]

    for episode in range(count):
        frames, info, _ = record_episode(env, policy, seed=seed + episode, every=2)
        path = save_gif(frames, folder / f"episode_{seed + episode}.gif", fps=fps / 2)
        print(f"wrote {path} ({info.get('outcome')})")
