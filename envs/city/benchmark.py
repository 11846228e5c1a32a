"""Steps per second of ``CityDriving-v0`` against highway-env's ``intersection-v0``.

Both envs are built by ``gym.make`` and driven by a seeded sequence of random actions
from their own action spaces (ours continuous, highway-env's discrete meta-actions),
resetting whenever an episode ends (resets are part of the cost, as in training).
Each measurement is repeated and the best run kept. highway-env runs at tens of steps
per second, so it gets its own, much smaller, step count (``peer_steps``).

highway-env is an optional dependency (the ``bench`` extra); without it only our
number is measured. Timing helpers are shared with :mod:`envs.lunar.benchmark`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import warnings
from collections.abc import Sequence

import gymnasium as gym
import numpy as np

import envs  # noqa: F401  (registers CityDriving-v0)
from envs.city import public
from envs.city.env import ENV_ID, CityDrivingEnv
from envs.city.geometry import cast_rays
from envs.city.vehicle import VehicleState, advance
from envs.city.world import CityWorld, _directions
from envs.lunar.benchmark import Throughput, _timed, measure, random_actions

#: highway-env's four-way intersection (discrete meta-actions), the default peer.
PEER_ID = "intersection-v0"
#: highway-env ids this benchmark knows how to drive.
PEER_IDS = ("intersection-v0", "highway-fast-v0")
#: The measured city: a fixed 10 x 10 map, 32 lidar rays.
CITY_KWARGS = {"grid_columns": 10, "grid_rows": 10, "lidar_rays": 32, "map_seed": 0}
INSTALL_HINT = "install the bench extra: pip install -e '.[bench]' (highway-env)"


def make_city() -> gym.Env:
    """``CityDriving-v0`` as measured here, through ``gym.make``."""
    return gym.make(ENV_ID, **CITY_KWARGS)


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

    The bare env steps through the actions, each ``env.step`` timed; after each step
    its pieces are run again, timed, on the same state: the vehicle's physics substeps
    on a copy of the car as it was before the step, ``CityWorld._update`` (which reads
    the sensors) on a copy of the world as it was before the update, the lidar cast
    alone, and ``CityDrivingEnv._observe``. What the timed ``env.step`` leaves over is
    the rest of it (controls, reward, info). Resets are timed apart. The wrappers' cost
    is ``gym.make``'s throughput against the bare env's, each the best of ``repeats``
    alternated runs; it is about a microsecond, within the noise of a busy machine.
    """
    _check_counts(steps=steps, repeats=repeats)
    actions = random_actions(steps, True, seed)
    wrapped = make_city()
    bare: CityDrivingEnv = wrapped.unwrapped
    bare.reset(seed=seed)
    names = tuple(vars(bare.world))  # a world dropped at the next reset; see _shadow
    # Alternated, best of each, so that a slow spell of the machine hits both alike.
    rates = [(measure(wrapped, actions, 1, seed), measure(bare, actions, 1, seed))
             for _ in range(repeats)]
    per_step = {"total": 1e6 / max(r[0] for r in rates),
                "bare": 1e6 / max(r[1] for r in rates)}
    step = physics = update = lidar = observation = resets = 0.0
    bare.reset(seed=seed)
    for action in actions:
        world = bare.world
        shadow = _shadow(world, names)
        probe = dataclasses.replace(world.car)
        steer, pedal = bare._controls(action)
        elapsed, outcome = _timed(functools.partial(bare.step, action))
        step += elapsed
        elapsed, _ = _timed(functools.partial(_physics, world, probe, steer, pedal))
        physics += elapsed
        shadow.car, shadow.time_s = world.car, world.time_s
        elapsed, _ = _timed(shadow._update)
        update += elapsed
        elapsed, _ = _timed(functools.partial(_lidar, world))
        lidar += elapsed
        elapsed, _ = _timed(bare._observe)
        observation += elapsed
        if outcome[2] or outcome[3]:
            elapsed, _ = _timed(bare.reset)
            resets += elapsed
    wrapped.close()
    micros = {name: 1e6 * seconds / steps for name, seconds in {
        "vehicle physics (advance x substeps)": physics,
        "lidar (cast_rays on neighbourhood boxes)": lidar,
        "rest of CityWorld._update and _read": update - lidar,
        "observation (CityDrivingEnv._observe)": observation,
        "rest of env.step (controls, reward, info)": step - physics - update - observation,
        "resets (amortized)": resets,
    }.items()}
    micros["wrappers (OrderEnforcing, checker)"] = per_step["total"] - per_step["bare"]
    micros["total (gym.make)"] = per_step["total"]
    return micros


def _shadow(world: CityWorld, names: Sequence[str]) -> CityWorld:
    """A copy of ``world`` that ``_update`` may change without touching ``world``.

    ``_update`` rebinds attributes and adds to ``counts``; it only reads the car. The
    copy is built attribute by attribute, in ``__init__``'s order (``names``): reading
    ``world.__dict__``, as ``copy.copy`` does, would make later attribute access on
    the stepped world slower (CPython's inline attribute values) and skew the timing.
    """
    shadow = object.__new__(CityWorld)
    for name in names:
        setattr(shadow, name, getattr(world, name))
    shadow.counts = dict(world.counts)
    return shadow


def _physics(world: CityWorld, car: VehicleState, steer: float, pedal: float) -> None:
    """The substeps of ``CityWorld.step`` on ``car``."""
    dt = public.DT_S / world.substeps
    friction = world.context.friction
    for _ in range(world.substeps):
        advance(car, steer, pedal, friction, dt)


def _lidar(world: CityWorld) -> np.ndarray:
    """The lidar cast of ``CityWorld._read`` on ``world``'s current state."""
    car = world.car
    return cast_rays(car.x, car.y, _directions(car.heading + world._ray_angles),
                     world._seen.near(car.x, car.y), world.lidar_range)


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
