"""Steps per second of ``CityDriving-v0`` against highway-env's ``intersection-v0``.

Both envs are built by ``gym.make`` and driven by a seeded sequence of random actions
from their own action spaces (ours continuous, highway-env's discrete meta-actions),
resetting whenever an episode ends (resets are part of the cost, as in training).
Each measurement is repeated and the best run kept. highway-env runs at tens of steps
per second, so it gets its own, much smaller, step count (``peer_steps``).

highway-env is an optional dependency (the ``bench`` extra); without it only our
number is measured. Timing helpers are shared with :mod:`exgen.envs.speed_benchmark`.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from collections.abc import Sequence

import gymnasium as gym

import exgen  # noqa: F401  (registers CityDriving-v0)
from exgen.envs.city.env import ENV_ID, CityDrivingEnv
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


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
