"""Benchmarks: env speed against LunarLander-v3 or highway-env, or the planner on unseen worlds.

Examples: ``exgen bench --steps 20000 --profile`` (env),
``exgen bench city --steps 20000 --peer-steps 300 --profile`` (city),
``exgen bench city --batch 1 64 256`` (the batched city world against the single env;
``--context observe_road_users=true`` measures it with an option on) and
``exgen bench planner --worlds 100 --variant default strong_wind`` (planner) and
``exgen bench mbrl --episodes 5`` (the model-based agent's decision times) and
``exgen bench held-out --worlds 20 --trials 2`` (compare's held-out episodes of a PPO
agent: instance by instance against batched).
"""

from __future__ import annotations

import argparse
import json
import platform

from exgen.agents.seeds import HELD_OUT_SEED_MIN
from exgen.envs.city import speed_benchmark as city_benchmark
from exgen.envs.lunar.speed_benchmark import compare, profile_components
from exgen.scripts.inputs import InputError, parse_context

NAME = "bench"
#: Default steps and repeats per measurement; those of the batched city world (env steps
#: per measurement, at least), kept to a few seconds.
STEPS, REPEATS = 20_000, 3
BATCH_STEPS, BATCH_REPEATS = 4096, 1
#: Functions listed by ``exgen bench city --batch N --profile``.
PROFILE_TOP = 15


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?",
                        choices=("env", "city", "planner", "city-planner", "mbrl", "train",
                                 "held-out"),
                        default="env",
                        help="what to measure: LunarLanding-v0 against LunarLander-v3 (env), "
                             "CityDriving-v0 against highway-env (city), the lunar planner "
                             "(planner), the city planner (city-planner), the decision "
                             "times of the model-based agent (mbrl) or SB3 PPO's training "
                             "speed on CityDriving-v0, today's table against the batched "
                             "world's (train), or compare's held-out episodes of a PPO "
                             "agent, sequential against batched (held-out) (default: env)")
    parser.add_argument("--steps", type=int,
                        help=f"env, city: steps per measurement of our env (default: "
                             f"{STEPS}); city --batch: env steps per measurement of each, "
                             f"at least (default: {BATCH_STEPS})")
    parser.add_argument("--peer-steps", type=int, default=300,
                        help="city: steps per measurement of the much slower highway-env "
                             "(default: 300)")
    parser.add_argument("--peer", nargs="+", default=[city_benchmark.PEER_ID],
                        choices=city_benchmark.PEER_IDS, metavar="ID",
                        help=f"city: highway-env ids to compare with: "
                             f"{', '.join(city_benchmark.PEER_IDS)} "
                             f"(default: {city_benchmark.PEER_ID})")
    parser.add_argument("--repeats", type=int,
                        help=f"env, city: measurements per env; the best is kept (default: "
                             f"{REPEATS}; city --batch: {BATCH_REPEATS})")
    parser.add_argument("--batch", nargs="+", type=int, metavar="N",
                        help=f"city: the batched world of N cities (gym.make_vec, several N "
                             f"allowed: --batch 1 64 256) against the single env instead of "
                             f"highway-env, on one thread, beside the goal of "
                             f"{city_benchmark.GOAL_STEPS_PER_S:,} env steps/s at "
                             f"{city_benchmark.GOAL_NUM_ENVS} cities; --profile then profiles "
                             f"the largest N")
    parser.add_argument("--context", nargs="+", metavar="KEY=VALUE",
                        help="city --batch: env arguments and context fields added to the "
                             "measured city's, e.g. observe_road_users=true")
    parser.add_argument("--continuous", action="store_true",
                        help="env: use continuous actions in both envs (city: always "
                             "continuous for ours, the peer's own action space for highway-env)")
    parser.add_argument("--seed", type=int,
                        help="env, city: action sequence seed (default 0); planner: first "
                             "held-out seed (default: drawn from 1,000,000 up)")
    parser.add_argument("--profile", action="store_true",
                        help="env, city: also print microseconds per step by component "
                             "(city --batch: by function, cProfile)")
    parser.add_argument("--worlds", type=int, default=100,
                        help="planner, city-planner: random worlds (cities) per variant; "
                             "held-out: unseen cities (default: 100)")
    parser.add_argument("--trials", type=int,
                        help="planner, city-planner, held-out: trials per world (default: "
                             "3, 2, 2)")
    parser.add_argument("--variant", nargs="*", default=["default"],
                        help="planner: default, strong_wind, observation_noise, continuous; "
                             "city-planner: default, ice, left_hand, double_traffic, maps, "
                             "compact, van, truck, short_amber")
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="train: timed training per setup, after a warm-up rollout "
                             "(default: 15)")
    parser.add_argument("--setups", nargs="+", default=["today", "batched"],
                        metavar="SETUP",
                        help="train: setups to measure, ratios to the first: today, batched, "
                             "batched-2threads, batched-today, route-reward, tuning-city, "
                             "tuning-city-256 (default: "
                             "today batched)")
    parser.add_argument("--episodes", type=int, default=5,
                        help="mbrl: timed episodes, after as many learning ones (default: 5)")


def run(args: argparse.Namespace) -> int:
    if args.batch is not None and args.target != "city":
        raise InputError(f"--batch is for `exgen bench city`, not {args.target}")
    if args.context is not None and args.batch is None:
        raise InputError("--context is for `exgen bench city --batch N`")
    if args.target == "mbrl":
        return run_mbrl(args)
    if args.target == "train":
        return run_train(args)
    if args.target == "held-out":
        return run_held_out(args)
    if args.target in ("planner", "city-planner"):
        return run_planner(args)
    if args.target == "city":
        return run_city(args)
    _resolve_counts(args, STEPS, REPEATS)
    if args.steps < 1 or args.repeats < 1:
        raise InputError(f"--steps and --repeats must be >= 1, got {args.steps} and "
                         f"{args.repeats}")
    seed = 0 if args.seed is None else args.seed
    mode = "continuous" if args.continuous else "discrete"
    print(f"random {mode} actions, {args.steps} steps, best of {args.repeats}, "
          f"Python {platform.python_version()} on {platform.machine()}")
    ours, peer = compare(args.steps, args.repeats, args.continuous, seed)
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
        for name, micros in profile_components(args.steps, args.continuous, seed).items():
            print(f"  {name:48s} {micros:6.2f}")
    return 0


def run_city(args: argparse.Namespace) -> int:
    """``CityDriving-v0`` against highway-env; our number alone when highway-env is missing."""
    if args.batch is not None:
        return run_city_batch(args)
    _resolve_counts(args, STEPS, REPEATS)
    if args.steps < 1 or args.peer_steps < 1 or args.repeats < 1:
        raise InputError(f"--steps, --peer-steps and --repeats must be >= 1, got {args.steps}, "
                         f"{args.peer_steps} and {args.repeats}")
    seed = 0 if args.seed is None else args.seed
    print(f"random actions ({_city_fields()}), {args.steps} steps (highway-env: "
          f"{args.peer_steps}), best of {args.repeats}, Python {platform.python_version()} "
          f"on {platform.machine()}")
    ours, peers = city_benchmark.compare(args.steps, args.peer_steps, args.repeats, seed,
                                         args.peer)
    for result in (ours, *(peers or ())):
        print(f"{result.env_id:18s} {result.steps_per_second:10,.0f} steps/s "
              f"{result.microseconds_per_step:9.2f} us/step")
    if peers is None:
        print(f"highway-env unavailable ({', '.join(args.peer)} not measured): "
              f"{city_benchmark.INSTALL_HINT}")
    for peer in peers or ():
        ratio = ours.steps_per_second / peer.steps_per_second
        print(f"ratio {ours.env_id} / {peer.env_id}: {ratio:.1f}x")
    if args.profile:
        print(f"per-component cost of {ours.env_id} [us/step]:")
        for name, micros in city_benchmark.profile_components(args.steps, seed,
                                                              args.repeats).items():
            print(f"  {name:48s} {micros:6.2f}")
    return 0


def run_city_batch(args: argparse.Namespace) -> int:
    """The batched city world of each ``--batch`` N against the single env, on one
    thread, beside the goals; with ``--profile`` the largest N's top functions."""
    _resolve_counts(args, BATCH_STEPS, BATCH_REPEATS)
    if args.steps < 1 or args.repeats < 1:
        raise InputError(f"--steps and --repeats must be >= 1, got {args.steps} and "
                         f"{args.repeats}")
    largest = city_benchmark.MAX_NUM_ENVS
    bad = [n for n in args.batch if not 1 <= n <= largest]
    if bad:
        raise InputError(f"--batch takes numbers of cities in [1, {largest:,}], got {bad[0]}")
    seed = 0 if args.seed is None else args.seed
    fields = parse_context(args.context or [])
    with city_benchmark.one_thread() as threads:
        print(f"batched world (gym.make_vec) against the single env (gym.make): random "
              f"actions ({_city_fields(fields)}), {args.steps} env steps per measurement or "
              f"more, "
              f"autoreset, best of {args.repeats}, {threads}, Python "
              f"{platform.python_version()} on {platform.machine()}")
        print(_goals())
        print(f"{'cities':>6s} {'batched [env steps/s]':>22s} {'single [env steps/s]':>21s} "
              f"{'ratio':>7s} {'episodes ended':>15s}")
        for result in city_benchmark.compare_batch(args.batch, args.steps, args.repeats, seed,
                                                   fields):
            verdict = city_benchmark.goal_verdict(result)
            print(f"{result.num_envs:6d} {result.batched.steps_per_second:22,.0f} "
                  f"{result.single.steps_per_second:21,.0f} {result.speedup:6.2f}x "
                  f"{result.episode_ends:15d}" + (f"  {verdict}" if verdict else ""))
        if args.profile:
            n = max(args.batch)
            print(f"top functions of the batched world of {n} cities by own time "
                  f"[us per env step] (cProfile):")
            print(f"  {'own':>8s} {'cumulative':>10s} {'calls':>9s}  function")
            for name, calls, own, total in city_benchmark.profile_batch(
                    n, args.steps, seed, PROFILE_TOP, fields):
                print(f"  {own:8.2f} {total:10.2f} {calls:9d}  {name}")
    return 0


def _resolve_counts(args: argparse.Namespace, steps: int, repeats: int) -> None:
    """``--steps`` and ``--repeats``, their defaults filled in."""
    args.steps = steps if args.steps is None else args.steps
    args.repeats = repeats if args.repeats is None else args.repeats


def _city_fields(fields: dict | None = None) -> str:
    """The measured city's fields (with ``fields`` added), as ``name=value`` pairs."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in {**city_benchmark.CITY_KWARGS, **(fields or {})}.items())


def _goals() -> str:
    """The batched world's goals, in one line."""
    b = city_benchmark
    return (f"goal: {b.GOAL_STEPS_PER_S:,} env steps/s at {b.GOAL_NUM_ENVS} cities (stretch "
            f"{b.STRETCH_STEPS_PER_S:,}); not met below {b.FLOOR_STEPS_PER_S:,} or below "
            f"{b.FLOOR_SPEEDUP:g}x the single env")


def run_train(args: argparse.Namespace) -> int:
    """SB3 PPO env steps per second on the city, each setup after the first as a ratio."""
    from exgen.agents.training_benchmark import SETUPS, format_report, measure_training

    if not args.seconds > 0:
        raise InputError(f"--seconds must be > 0, got {args.seconds}")
    unknown = [name for name in args.setups if name not in SETUPS]
    if unknown:
        raise InputError(f"unknown --setups {unknown[0]!r}; valid: {', '.join(SETUPS)}")
    seed = 0 if args.seed is None else args.seed
    print(format_report(measure_training(args.seconds, args.setups, seed)))
    return 0


def run_held_out(args: argparse.Namespace) -> int:
    """Compare's held-out episodes per path, each against the sequential one."""
    from exgen.experiments.held_out_benchmark import format_report, measure

    trials = 2 if args.trials is None else args.trials
    if args.worlds < 1 or trials < 1:
        raise InputError(f"--worlds and --trials must be >= 1, got {args.worlds} and {trials}")
    seed = 0 if args.seed is None else args.seed
    print(format_report(measure(args.worlds, trials, seed=seed), args.worlds, trials))
    return 0


def run_mbrl(args: argparse.Namespace) -> int:
    """Decision times of ``mbrl`` on one torch thread: per step and per replan [ms]."""
    from exgen.agents.model_based import benchmark

    if args.episodes < 1:
        raise InputError(f"--episodes must be >= 1, got {args.episodes}")
    seed = 10_000 if args.seed is None else args.seed
    result = benchmark(episodes=args.episodes, warmup_episodes=args.episodes, seed=seed)
    print(json.dumps(result, indent=2))
    return 0


def run_planner(args: argparse.Namespace) -> int:
    if args.target == "city-planner":
        from exgen.experiments.city_success_benchmark import VARIANTS, run_benchmark
    else:
        from exgen.experiments.lunar_success_benchmark import VARIANTS, run_benchmark
    if args.trials is None:
        args.trials = 2 if args.target == "city-planner" else 3
    unknown = [v for v in args.variant if v not in VARIANTS]
    if unknown:
        raise InputError(f"unknown variant {unknown[0]!r}; valid: {', '.join(VARIANTS)}")
    if args.worlds < 1 or args.trials < 1:
        raise InputError(f"--worlds and --trials must be >= 1, got {args.worlds} and "
                         f"{args.trials}")
    if args.seed is not None and args.seed < HELD_OUT_SEED_MIN:
        raise InputError(f"--seed must be a held-out seed (>= {HELD_OUT_SEED_MIN:,}), "
                         f"got {args.seed}")
    for variant in args.variant:
        result = run_benchmark(variant, args.worlds, args.trials, args.seed,
                               **VARIANTS[variant])
        summary = result.summary()
        print(json.dumps(summary, indent=2))
        if args.target == "city-planner":
            continue
        print(f"| gravity [m/s²] | worlds | trial 1 | within {args.trials} |")
        print("| --- | --- | --- | --- |")
        for name, count, first, within in result.success_by_gravity():
            print(f"| {name} | {count} | {first:.0%} | {within:.0%} |")
    return 0
