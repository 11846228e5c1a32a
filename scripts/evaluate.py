"""Evaluate a trained agent, or one that needs no training, on any context.

Optionally records GIFs of its episodes. Examples:
``exgen evaluate runs/ppo-LunarLanding-v0-10000 --preset mars --episodes 50`` (the run's
training context with the preset's fields replaced) and ``exgen evaluate --agent planner
--env LunarLanding-v0 --preset moon --episodes 10`` (no run folder). On CityDriving-v0,
``--events events.csv`` logs where each infraction and each episode's end happen.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

import exgen  # noqa: F401  (registers the env ids)
from exgen.agents.episodes import run_episodes
from exgen.agents.event_log import CITY_ENV_ID, EventRecorder, summary_lines
from exgen.agents.public_view import PublicView
from exgen.agents.records import EpisodeRecord, is_clean_arrival
from exgen.agents.registry import make_agent, resolve
from exgen.agents.sb3 import ALGORITHMS
from exgen.agents.seeds import draw_held_out_seed
from exgen.agents.training import load_trained_agent, run_metadata
from exgen.envs.mixture import context_of, make_env, replace_context
from exgen.envs.recording import save_gif
from exgen.scripts.inputs import (
    InputError,
    add_env_arguments,
    env_kwargs,
    input_errors,
)

NAME = "evaluate"
#: The env of ``--agent`` without ``--env``, as for ``exgen train``.
DEFAULT_ENV = "LunarLanding-v0"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, nargs="?", metavar="RUN",
                        help="a training output folder, or a model file (or give --agent)")
    parser.add_argument("--agent", help="evaluate this agent without a run folder: random, "
                                        "planner or package.module:Class (not an RL "
                                        "algorithm: train it first)")
    add_env_arguments(parser)
    parser.set_defaults(env=None)
    parser.add_argument("--episodes", type=int, default=20, help="episodes (default: 20)")
    parser.add_argument("--seed", type=int,
                        help="first episode seed (default: drawn from 1,000,000 up)")
    parser.add_argument("--stochastic", action="store_true",
                        help="sample actions instead of the deterministic policy")
    parser.add_argument("--gif", type=Path, help="folder for a GIF of each of the first episodes")
    parser.add_argument("--gif-episodes", type=int, default=3, help="episodes to record")
    parser.add_argument("--events", type=Path, metavar="PATH",
                        help=f"{CITY_ENV_ID} only: write a CSV row per infraction and per "
                             f"episode end (where, how fast, the light, the turn, the last "
                             f"actions) and print their counts to stderr")


def run(args: argparse.Namespace) -> int:
    with input_errors():
        _check_arguments(args)
        seed = args.seed if args.seed is not None else draw_held_out_seed(args.episodes)
        given = env_kwargs(args.context, args.preset, args.observe_context, args.observe_fuel)
        if args.agent is None:
            name, env_id, kwargs = _run_context(args.path, args.env, given)
        else:
            name, env_id = args.agent, args.env or DEFAULT_ENV
            kwargs = replace_context(env_id, {}, given)
        if args.events is not None and env_id != CITY_ENV_ID:
            raise InputError(f"--events logs {CITY_ENV_ID}'s infractions; {env_id} has none")
        env = make_env(env_id, **kwargs)  # a bad context fails here, as one line
        view = PublicView(env)  # the agent's; run_episodes records from env itself
        agent = (make_agent(name, view, seed=seed) if args.path is None
                 else load_trained_agent(args.path, env=view)[0])
        # run_episodes plays env through the event recorder; the agent's view stays on env.
        played = env if args.events is None else EventRecorder(env, args.events)
    agent.env = getattr(agent, "env", None) or view
    records = run_episodes(agent, played, seed=range(seed, seed + args.episodes),
                           deterministic=not args.stochastic, agent_name=name)
    report = {"agent": name, "run": None if args.path is None else str(args.path),
              "env_id": env_id, "env_kwargs": kwargs, "context": context_of(env),
              "seeds": [seed, seed + args.episodes - 1], **records_summary(records)}
    print(json.dumps(report, indent=2, default=str))
    if isinstance(played, EventRecorder):
        played.close()
        # On stderr: stdout stays the JSON report.
        print("\n".join([f"wrote {played.path} ({len(played.rows)} events)",
                         *summary_lines(played.rows)]), file=sys.stderr)
    if args.gif:
        record_gifs(agent, env_id, kwargs, seed, args.gif_episodes, args.gif,
                    not args.stochastic)
    return 0


def records_summary(records: list[EpisodeRecord]) -> dict[str, Any]:
    """Episodes, success rate, mean return and outcome counts of ``records``, with
    :func:`rules_summary` for a world with rules."""
    return {"episodes": len(records),
            "success_rate": float(np.mean([r.is_success for r in records])),
            "mean_return": float(np.mean([r.episode_return for r in records])),
            "outcomes": {o: sum(r.outcome == o for r in records)
                         for o in sorted({r.outcome for r in records})},
            **rules_summary(records)}


def rules_summary(records: list[EpisodeRecord]) -> dict[str, Any]:
    """For a world with rules (its records count infractions): the share of clean
    arrivals (arrived with no infraction), infractions per episode by kind, and the mean
    driving score; empty for other worlds."""
    if not any(r.infractions for r in records):
        return {}
    kinds = sorted({kind for r in records for kind in r.infractions})
    scores = [r.driving_score for r in records if r.driving_score is not None]
    return {
        "clean_arrival_rate": float(np.mean([is_clean_arrival(r.is_success, r.infractions)
                                             for r in records])),
        "infractions_per_episode": {kind: float(np.mean([r.infractions.get(kind, 0)
                                                         for r in records]))
                                    for kind in kinds},
        "mean_driving_score": float(np.mean(scores)) if scores else None}


def _check_arguments(args: argparse.Namespace) -> None:
    """One of RUN and ``--agent``; positive counts; a seed >= 0; an untrained agent that
    needs no training."""
    if args.path is not None and args.agent is not None:
        raise InputError(f"give RUN ({args.path}) or --agent ({args.agent}), not both")
    if args.path is None and args.agent is None:
        raise InputError("give RUN (a training output folder or model file) or --agent NAME "
                         "(an agent that needs no training)")
    for option, value in (("--episodes", args.episodes), ("--gif-episodes", args.gif_episodes)):
        if value <= 0:
            raise InputError(f"{option} must be > 0, got {value}")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}")
    if args.agent is not None:
        resolve(args.agent)
        if args.agent in ALGORITHMS:
            raise InputError(f"--agent {args.agent} is an RL algorithm and learns first: "
                             f"exgen train --agent {args.agent} ..., then exgen evaluate RUN")


def _run_context(path: Path, env_id: str | None,
                 given: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """``(agent name, env id, env kwargs)`` of evaluating run ``path``: its training
    context with the ``given`` fields (and a given preset's) replaced; on another env
    than its own, ``given`` alone."""
    meta = run_metadata(path)
    env_id = env_id or meta["env_id"]
    trained = meta.get("env_kwargs", {}) if env_id == meta["env_id"] else {}
    return meta["agent"], env_id, replace_context(env_id, trained, given)


def record_gifs(agent: Any, env_id: str, kwargs: dict[str, Any], seed: int, count: int,
                folder: Path, deterministic: bool) -> None:
    """Write one GIF per episode for the first ``count`` evaluation seeds."""
    from exgen.envs.recording import record_episode

    env = make_env(env_id, render_mode="rgb_array", **kwargs)
    fps = env.metadata.get("render_fps", 30)

    def policy(observation: np.ndarray) -> Any:
        return agent.predict(observation, deterministic=deterministic)[0]

    for episode in range(count):
        frames, info, _ = record_episode(env, policy, seed=seed + episode, every=2)
        path = save_gif(frames, folder / f"episode_{seed + episode}.gif", fps=fps / 2)
        print(f"wrote {path} ({info.get('outcome')})", file=sys.stderr)
