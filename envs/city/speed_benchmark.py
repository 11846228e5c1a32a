"""Steps per second of ``CityDriving-v0`` against highway-env's ``intersection-v0``.

Both envs are built by ``gym.make`` and driven by a seeded sequence of random actions
from their own action spaces (ours continuous, highway-env's discrete meta-actions),
resetting whenever an episode ends (resets are part of the cost, as in training).
Each measurement is repeated and the best run kept. highway-env runs at tens of steps
per second, so it gets its own, much smaller, step count (``peer_steps``).

highway-env is an optional dependency (the ``bench`` extra); without it only our
number is measured. Timing helpers are shared with :mod:`exgen.envs.speed_benchmark`.

The batched world (``exgen bench city --batch N``): ``N`` cities of the same kind in
``CityDriving-v0``'s native vector env against the single env, on one thread, measured
back to back (:func:`compare_batch`), beside the goals of the batched world's issue
(:data:`GOAL_STEPS_PER_S` env steps per second at :data:`GOAL_NUM_ENVS` cities).
"""

from __future__ import annotations

import cProfile
import functools
import importlib
import math
import os
import pstats
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numba
import numpy as np

import exgen  # noqa: F401  (registers CityDriving-v0)
from exgen.envs.city.env import ENV_ID, CityDrivingEnv
from exgen.envs.city.vector_env import MAX_NUM_ENVS
from exgen.envs.speed_benchmark import Throughput, measure, random_actions, timed

#: highway-env's four-way intersection (discrete meta-actions), the default peer.
PEER_ID = "intersection-v0"
#: highway-env ids this benchmark knows how to drive.
PEER_IDS = ("intersection-v0", "highway-fast-v0")
#: The measured city: a fixed 10 x 10 map (9.73 km of street), 32 lidar rays, 30 other
#: cars and 10 pedestrians.
CITY_KWARGS = {"grid_columns": 10, "grid_rows": 10, "lidar_rays": 32, "map_seed": 0,
               "traffic_density": 30 / 9.7255, "pedestrian_density": 0.1}
INSTALL_HINT = "install the bench extra: pip install -e '.[bench]' (highway-env)"
#: The batched world's goals, at ``GOAL_NUM_ENVS`` cities [env steps/s]: the goal, the
#: stretch goal, and the floor below which (or below ``FLOOR_SPEEDUP`` times the single
#: env) the goal is not met.
GOAL_NUM_ENVS = 256
GOAL_STEPS_PER_S = 50_000
STRETCH_STEPS_PER_S = 100_000
FLOOR_STEPS_PER_S = 25_000
FLOOR_SPEEDUP = 8.0
#: Environment variables that limit BLAS to one thread when set before Python starts.
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def make_city(**fields: Any) -> gym.Env:
    """``CityDriving-v0`` as measured here, through ``gym.make``; ``fields`` (env
    arguments and context fields) are added to ``CITY_KWARGS``."""
    return gym.make(ENV_ID, **{**CITY_KWARGS, **fields})


def highway_env_available() -> bool:
    """Whether highway-env imports; importing it registers its env ids."""
    try:
        highway_env = importlib.import_module("highway_env")
    except ImportError:
        return False
    gym.register_envs(highway_env)
    return True


def make_peer(env_id: str) -> gym.Env:
    """A highway-env env through ``gym.make`` (raises ImportError without highway-env)."""
    if env_id not in PEER_IDS:
        raise ValueError(f"unknown peer {env_id!r}; valid: {', '.join(PEER_IDS)}")
    if not highway_env_available():
        raise ImportError(f"{env_id} needs highway-env: {INSTALL_HINT}")
    with warnings.catch_warnings():
        # intersection-v0 is the discrete-action intersection we compare with on
        # purpose; gymnasium flags it "out of date" only because v1 and v2 exist.
        warnings.filterwarnings("ignore", message=".*is out of date", category=DeprecationWarning)
        return gym.make(env_id)


def space_actions(space: gym.Space, steps: int, seed: int) -> list:
    """``steps`` seeded samples of ``space``."""
    space.seed(seed)
    return [space.sample() for _ in range(steps)]


def measure_city(steps: int = 20_000, repeats: int = 3, seed: int = 0) -> Throughput:
    """Throughput of ``CityDriving-v0`` under seeded random continuous actions."""
    _check_counts(steps=steps, repeats=repeats)
    env = make_city()
    try:
        rate = measure(env, random_actions(steps, True, seed), repeats, seed)
    finally:
        env.close()
    return Throughput(ENV_ID, steps, repeats, rate)


def measure_peer(env_id: str = PEER_ID, steps: int = 300, repeats: int = 3,
                 seed: int = 0) -> Throughput:
    """Throughput of a highway-env env under seeded random actions of its action space."""
    _check_counts(steps=steps, repeats=repeats)
    env = make_peer(env_id)
    try:
        rate = measure(env, space_actions(env.action_space, steps, seed), repeats, seed)
    finally:
        env.close()
    return Throughput(env_id, steps, repeats, rate)


def compare(steps: int = 20_000, peer_steps: int = 300, repeats: int = 3, seed: int = 0,
            peers: Sequence[str] = (PEER_ID,)) -> tuple[Throughput, list[Throughput] | None]:
    """Throughput of ``CityDriving-v0`` and of each peer (None without highway-env)."""
    unknown = [p for p in peers if p not in PEER_IDS]
    if unknown:
        raise ValueError(f"unknown peer {unknown[0]!r}; valid: {', '.join(PEER_IDS)}")
    _check_counts(steps=steps, peer_steps=peer_steps, repeats=repeats)
    ours = measure_city(steps, repeats, seed)
    if not highway_env_available():
        return ours, None
    return ours, [measure_peer(p, peer_steps, repeats, seed) for p in peers]


def profile_components(steps: int = 20_000, seed: int = 0, repeats: int = 1) -> dict[str, float]:
    """Microseconds per step of ``CityDriving-v0`` by component.

    The bare env goes through the actions as ``env.step`` does, with each phase of
    ``CityWorld.step`` timed on its own: the ego car's physics substeps, the other road
    users (traffic, then pedestrians), and the update (collisions, rules, sensing). The
    lidar scan and the observation are timed again on the same state (both are pure
    functions of it). What the whole bare step leaves over is the env's own work (controls,
    reward, info). Resets are timed apart. The wrappers' cost is ``gym.make``'s
    throughput against the bare env's, each the best of ``repeats`` alternated runs.
    """
    _check_counts(steps=steps, repeats=repeats)
    actions = random_actions(steps, True, seed)
    wrapped = make_city()
    bare: CityDrivingEnv = wrapped.unwrapped
    # Alternated, best of each, so that a slow spell of the machine hits both alike.
    rates = [(measure(wrapped, actions, 1, seed), measure(bare, actions, 1, seed))
             for _ in range(repeats)]
    per_step = {"total": 1e6 / max(r[0] for r in rates),
                "bare": 1e6 / max(r[1] for r in rates)}
    seconds_in = dict.fromkeys(("physics", "road users", "update", "lidar",
                                "observation", "resets"), 0.0)
    bare.reset(seed=seed)
    for action in actions:
        world = bare.world
        steer, pedal = bare._controls(action)
        for name, phase in (("physics", functools.partial(world.drive, steer, pedal)),
                            ("road users", world.move_road_users),
                            ("update", world.update), ("lidar", world.scan),
                            ("observation", bare._observe)):
            seconds_in[name] += timed(phase)[0]
        if world.collided or world.arrived or world.time_s >= bare._time_limit_s:
            seconds_in["resets"] += timed(bare.reset)[0]
    wrapped.close()
    micros = {name: 1e6 * seconds / steps for name, seconds in seconds_in.items()}
    phases = (micros["physics"] + micros["road users"] + micros["update"]
              + micros["observation"] + micros["resets"])
    return {
        "vehicle physics (advance x substeps)": micros["physics"],
        "road users (traffic: IDM, lights, reservations; pedestrians)": micros["road users"],
        "lidar (one ray cast: roads, roadworks, cars, people)": micros["lidar"],
        "rest of the update (collisions, rules, route)": micros["update"] - micros["lidar"],
        "observation (CityDrivingEnv._observe)": micros["observation"],
        "resets (amortized)": micros["resets"],
        "rest of env.step (controls, reward, info)": per_step["bare"] - phases,
        "wrappers (OrderEnforcing, checker)": per_step["total"] - per_step["bare"],
        "total (gym.make)": per_step["total"],
    }


@dataclass(frozen=True)
class BatchComparison:
    """The batched world of ``num_envs`` cities against the single env, back to back.

    ``batched`` counts env steps (decisions of one city) per second, over
    ``batched.steps`` env steps per measurement; ``episode_ends`` is how many of the
    batch's episodes ended (and reset) in its last measurement.
    """

    num_envs: int
    batched: Throughput
    single: Throughput
    episode_ends: int

    @property
    def speedup(self) -> float:
        """Batched env steps per second over the single env's."""
        return self.batched.steps_per_second / self.single.steps_per_second


def goal_verdict(comparison: BatchComparison) -> str | None:
    """How ``comparison`` stands against the issue's goals; None but at ``GOAL_NUM_ENVS``."""
    if comparison.num_envs != GOAL_NUM_ENVS:
        return None
    rate, speedup = comparison.batched.steps_per_second, comparison.speedup
    if rate < FLOOR_STEPS_PER_S or speedup < FLOOR_SPEEDUP:
        return (f"goal not met (below {FLOOR_STEPS_PER_S:,} env steps/s or "
                f"{FLOOR_SPEEDUP:g}x the single env)")
    if rate >= STRETCH_STEPS_PER_S:
        return "stretch goal met"
    if rate >= GOAL_STEPS_PER_S:
        return "goal met"
    return f"above the floor, short of the goal ({GOAL_STEPS_PER_S:,})"


def make_city_batch(num_envs: int, **fields: Any) -> gym.vector.VectorEnv:
    """``num_envs`` cities like :func:`make_city`'s in the native vector env."""
    return gym.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode="vector_entry_point",
                        **{**CITY_KWARGS, **fields})


def batch_actions(decisions: int, num_envs: int, seed: int) -> np.ndarray:
    """Seeded random continuous actions, ``(decisions, num_envs, 2)`` in [-1, 1]."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, (decisions, num_envs, 2)).astype(np.float32)


def measure_batch(vec: gym.vector.VectorEnv, actions: np.ndarray, repeats: int,
                  seed: int) -> tuple[float, int]:
    """Best env steps per second over ``repeats`` runs of ``actions`` on ``vec`` from
    ``reset(seed=seed)``, ended episodes resetting on their next step (autoreset), and
    how many episodes ended in the last run."""
    best, ends = 0.0, 0
    for _ in range(repeats):
        vec.reset(seed=seed)
        ends = 0
        start = time.perf_counter()
        for action in actions:
            _, _, terminations, truncations, _ = vec.step(action)
            ends += int(np.count_nonzero(terminations | truncations))
        best = max(best, actions.size // 2 / (time.perf_counter() - start))
    return best, ends


def warm_up(seed: int = 0, fields: Mapping[str, Any] | None = None) -> None:
    """A few untimed steps of one city in the batched world and of the single env, so
    that what compiles on first use (numba) is compiled before the timing."""
    fields = fields or {}
    vec, single = make_city_batch(1, **fields), make_city(**fields)
    measure_batch(vec, batch_actions(3, 1, seed), 1, seed)
    measure(single, random_actions(3, True, seed), 1, seed)
    vec.close()
    single.close()


def batch_decisions(steps: int, num_envs: int) -> int:
    """Decisions per city that give at least ``steps`` env steps over ``num_envs`` cities."""
    return math.ceil(steps / num_envs)


@contextmanager
def one_thread() -> Iterator[str]:
    """numba's parallel code and BLAS (when threadpoolctl is installed) held to one
    thread inside; yields what was held, for the report."""
    threadpoolctl = _optional("threadpoolctl")
    threads = numba.get_num_threads()
    with threadpoolctl.threadpool_limits(1) if threadpoolctl is not None else nullcontext():
        numba.set_num_threads(1)
        try:
            yield _thread_report(threadpoolctl is not None)
        finally:
            numba.set_num_threads(threads)


def _thread_report(threadpoolctl: bool) -> str:
    """What :func:`one_thread` held to one thread, and how to hold BLAS without
    threadpoolctl."""
    held = ["numba 1 thread"]
    if threadpoolctl:
        return ", ".join([*held, "BLAS 1 thread"])
    given = [f"{name}={os.environ[name]}" for name in BLAS_THREAD_VARIABLES
             if name in os.environ]
    blas = (f"BLAS {' '.join(given)}" if given else
            "BLAS threads unlimited (set OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1, "
            "or install threadpoolctl)")
    return ", ".join([*held, blas])


def compare_batch(num_envs: Sequence[int] = (1, 64, GOAL_NUM_ENVS), steps: int = 4096,
                  repeats: int = 1, seed: int = 0,
                  fields: Mapping[str, Any] | None = None) -> list[BatchComparison]:
    """The batched world of each of ``num_envs`` cities against the single env, each
    measured over at least ``steps`` env steps on seeded random actions, the two
    alternated ``repeats`` times back to back (best of each kept); ``fields`` are added
    to the measured city's (:func:`make_city`). Call inside :func:`one_thread` to
    measure one thread."""
    _check_counts(steps=steps, repeats=repeats)
    _check_num_envs(num_envs)
    fields = fields or {}
    warm_up(seed, fields)
    single = make_city(**fields)
    single_actions = random_actions(steps, True, seed)
    results = []
    try:
        for n in num_envs:
            vec = make_city_batch(n, **fields)
            actions = batch_actions(batch_decisions(steps, n), n, seed)
            rates, batched, ends = [], 0.0, 0
            for _ in range(repeats):
                rates.append(measure(single, single_actions, 1, seed))
                rate, ends = measure_batch(vec, actions, 1, seed)
                batched = max(batched, rate)
            vec.close()
            results.append(BatchComparison(
                n, Throughput(f"{ENV_ID} x {n}", actions.size // 2, repeats, batched),
                Throughput(ENV_ID, steps, repeats, max(rates)), ends))
    finally:
        single.close()
    return results


def profile_batch(num_envs: int, steps: int = 4096, seed: int = 0, top: int = 15,
                  fields: Mapping[str, Any] | None = None
                  ) -> list[tuple[str, int, float, float]]:
    """cProfile of the batched world of ``num_envs`` cities (``fields`` added to the
    measured city's) over at least ``steps`` env steps: the ``top`` functions by own
    time, as (function, calls, own and cumulative microseconds per env step)."""
    _check_counts(steps=steps, top=top)
    _check_num_envs([num_envs])
    fields = fields or {}
    warm_up(seed, fields)
    vec = make_city_batch(num_envs, **fields)
    actions = batch_actions(batch_decisions(steps, num_envs), num_envs, seed)
    vec.reset(seed=seed)
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        for action in actions:
            vec.step(action)
        profiler.disable()
    finally:
        vec.close()
    env_steps = actions.size // 2
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = [(_function_name(where), calls, 1e6 * own / env_steps, 1e6 * total / env_steps)
            for where, (_, calls, own, total, _) in stats.items()]
    return sorted(rows, key=lambda row: -row[2])[:top]


def _function_name(where: tuple[str, int, str]) -> str:
    """``module.py:line(function)``, the file's folders left out."""
    path, line, name = where
    return f"{os.path.basename(path)}:{line}({name})" if line else name


def _check_num_envs(num_envs: Sequence[int]) -> None:
    if not num_envs:
        raise ValueError("give at least one number of cities to batch")
    for n in num_envs:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) \
                or not 1 <= n <= MAX_NUM_ENVS:
            raise ValueError(f"number of cities to batch must be an int in "
                             f"[1, {MAX_NUM_ENVS}], got {n!r}")


def _optional(module: str) -> Any:
    """The module if installed, else None."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
