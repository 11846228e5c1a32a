"""Train an agent on an env, logging every episode, evaluations and checkpoints.

Example: ``exgen train --agent ppo --env LunarLanding-v0 --context gravity=9.81``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import exgen  # noqa: F401  (registers the env ids)
from exgen.agents.registry import unsaved_learning_of
from exgen.agents.sb3 import ALGORITHMS, check_hyperparameters
from exgen.agents.training import VEC_ENVS, RunSpec, default_vec_env, train
from exgen.envs.mixture import replace_context
from exgen.scripts.inputs import (
    InputError,
    add_env_arguments,
    check_env_kwargs,
    env_kwargs,
    input_errors,
    parse_context,
)

NAME = "train"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent", required=True,
                        help="ppo, dqn, sac, a2c, td3, random, planner or package.module:Class")
    add_env_arguments(parser)
    parser.add_argument("--steps", type=int, help="budget in env steps (all envs together)")
    parser.add_argument("--episodes", type=int, help="budget in episodes")
    parser.add_argument("--seed", type=int, default=10_000,
                        help="training seed, 10000..999999 by the protocol (default: 10000)")
    parser.add_argument("--n-envs", type=int, help="parallel envs (default: the agent's table)")
    parser.add_argument("--out", type=Path, help="output folder (default: runs/AGENT-ENV-SEED)")
    parser.add_argument("--hyper", nargs="*", default=[], metavar="KEY=VALUE",
                        help="hyperparameter overrides, e.g. learning_rate=3e-4")
    parser.add_argument("--eval-every", type=int, default=20_000,
                        help="env steps between evaluations (default: 20000)")
    parser.add_argument("--eval-episodes", type=int, default=20,
                        help="episodes per evaluation, on held-out seeds (default: 20)")
    parser.add_argument("--tuning", action="store_true",
                        help="evaluate on the tuning seeds 900000.. instead of fresh held-out "
                             "ones (hyperparameter search; not a reported result)")
    parser.add_argument("--eval-context", nargs="*", metavar="KEY=VALUE",
                        help="evaluate on this context instead of the training one")
    parser.add_argument("--checkpoint-every", type=int, default=50_000,
                        help="env steps between checkpoints (default: 50000)")
    parser.add_argument("--stop-at-criterion", action="store_true",
                        help="stop once an evaluation reaches 90%% success")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch CPU threads (default: 1, fastest for small MLPs)")
    parser.add_argument("--vec-env", choices=sorted(VEC_ENVS),
                        help="run the envs in this process (dummy), one process each "
                             "(subproc, for a machine with spare cores) or, for "
                             "CityDriving-v0 and SB3 agents, as one batched world (batched); "
                             "default: batched where it can, else dummy")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    with input_errors():
        kwargs = env_kwargs(args.context, args.preset, args.observe_context, args.observe_fuel)
        unsaved = unsaved_learning_of(args.agent)
        action_space = check_env_kwargs(args.env, kwargs)
        hyperparameters = parse_context(args.hyper)
        if args.agent in ALGORITHMS:
            check_hyperparameters(args.agent, args.env, hyperparameters, action_space)
        eval_kwargs = None
        if args.eval_context is not None:  # the training context, these fields replaced
            eval_kwargs = replace_context(args.env, kwargs, parse_context(args.eval_context))
            check_env_kwargs(args.env, eval_kwargs)
        out = args.out or Path("runs") / f"{args.agent.replace(':', '.')}-{args.env}-{args.seed}"
        spec = RunSpec(
            agent=args.agent, env_id=args.env, out=out, seed=args.seed, env_kwargs=kwargs,
            total_timesteps=args.steps, total_episodes=args.episodes, n_envs=args.n_envs,
            hyperparameters=hyperparameters, eval_env_kwargs=eval_kwargs,
            eval_every_steps=args.eval_every, eval_episodes=args.eval_episodes,
            checkpoint_every_steps=args.checkpoint_every,
            stop_at_criterion=args.stop_at_criterion, torch_threads=args.torch_threads,
            tuning=args.tuning,
            vec_env=args.vec_env or default_vec_env(args.agent, args.env, kwargs))
        spec.validate()
        if not args.resume and (out / "run.json").exists():
            raise InputError(f"{out} already holds a run; pass --resume to continue it or "
                             f"choose another --out")
    if unsaved is not None:
        print(f"exgen train: warning: {unsaved}; exgen evaluate will refuse this run",
              file=sys.stderr)
    summary = train(spec, resume=args.resume, progress=not args.no_progress)
    print(json.dumps({key: summary[key] for key in (
        "status", "episodes", "total_steps", "episodes_to_criterion", "last_evaluation",
        "wall_time_s")}, indent=2))
    written = sorted(f"{p.name}/" if p.is_dir() else p.name for p in out.iterdir())
    print(f"wrote {out}/ ({', '.join(written)})")
    return 0
