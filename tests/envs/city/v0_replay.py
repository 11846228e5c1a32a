"""Seeded ``CityDriving-v0`` episodes, recorded once, that later versions must replay.

``python -m tests.envs.city.v0_replay`` wrote ``data/v0_replay.npz`` from the world as it
was before the batched city world (commit eecbb88). Each episode runs a context with
its seed and a fixed action sequence (the scripted driver's, or seeded random
actions) for at most ``MAX_STEPS`` steps; the file keeps the actions, observations,
rewards and ends, and a digest of every ``info``. ``tests/envs/city/test_v0_replay.py``
plays the same actions and compares.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from exgen.envs.city.heuristic import drive

FIXTURE = Path(__file__).parent / "data" / "v0_replay.npz"
MAX_STEPS = 1000
#: (fields, seed, driver): the scripted driver, seeded random actions, or random
#: steering at two-thirds throttle (which ends in collisions).
EPISODES: tuple[tuple[dict[str, Any], int, str], ...] = (
    ({"continuous": True}, 1, "scripted"),
    ({"continuous": True}, 2, "scripted"),
    ({"continuous": True, "preset": "rush_hour"}, 3, "scripted"),
    ({"continuous": True, "preset": "rush_hour"}, 4, "scripted"),
    ({"continuous": True, "preset": "ice"}, 5, "scripted"),
    ({"continuous": True, "preset": "left_hand"}, 6, "scripted"),
    ({"continuous": True, "preset": ("left_hand", "rush_hour")}, 7, "scripted"),
    ({"continuous": True, "preset": "truck"}, 8, "scripted"),
    ({"continuous": True, "preset": "van"}, 9, "scripted"),
    ({"continuous": True, "preset": "compact"}, 10, "scripted"),
    ({"continuous": True, "map_file": "downtown"}, 11, "scripted"),
    ({"continuous": True, "map_file": "ring"}, 12, "scripted"),
    ({"continuous": True, "map_file": "riverside", "preset": "rush_hour"}, 13, "scripted"),
    ({"continuous": True, "preset": "one_ways", "jaywalk_rate": 0.3}, 14, "scripted"),
    ({"continuous": True, "sensor_noise": 0.02, "observe_route": True}, 15, "scripted"),
    ({"preset": "roadworks"}, 16, "random"),
    ({"continuous": True, "preset": ("ice", "rush_hour")}, 17, "reckless"),
    ({"observe_context": True, "preset": "left_hand"}, 18, "random"),
    ({"continuous": True, "preset": "big_city", "traffic_density": 4.0}, 19, "reckless"),
    ({"observe_raster": True, "preset": "small_blocks"}, 20, "random"),
)


def _plain(value: Any) -> Any:
    """``value`` as JSON: floats by their exact ``repr``, arrays by their bytes' digest."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return ["array", str(value.dtype), list(value.shape),
                hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()]
    if isinstance(value, float | np.floating):
        return repr(float(value)) if math.isfinite(value) else str(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


def info_digest(info: dict[str, Any]) -> str:
    """A digest of everything in an ``info``, floats to the last bit."""
    return hashlib.sha256(json.dumps(_plain(info)).encode()).hexdigest()


def _vector(observation: Any) -> np.ndarray:
    if isinstance(observation, dict):
        raster = observation["raster"].astype(np.float32).ravel()
        return np.concatenate([observation["vector"], raster[:64]])
    return observation


def play(fields: dict[str, Any], seed: int, actions: np.ndarray | None = None,
         driver: str = "scripted") -> dict[str, np.ndarray]:
    """One episode; with ``actions`` it replays them, else it chooses them."""
    env = gym.make("exgen:CityDriving-v0", **fields)
    observation, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    side = info["map"]["driving_side"]
    rays = env.unwrapped.lidar_rays
    record: dict[str, list] = {"actions": [], "observations": [_vector(observation)],
                               "rewards": [], "ends": [], "digests": [info_digest(info)]}
    for t in range(MAX_STEPS if actions is None else len(actions)):
        if actions is not None:
            action = actions[t]
        elif driver == "scripted":
            action = drive(observation, rays, side).astype(np.float32)
        elif driver == "reckless":
            action = np.array([env.action_space.sample()[0], 0.66], np.float32)
        else:
            action = env.action_space.sample()
        observation, reward, terminated, truncated, info = env.step(action)
        record["actions"].append(action)
        record["observations"].append(_vector(observation))
        record["rewards"].append(reward)
        record["ends"].append((terminated, truncated))
        record["digests"].append(info_digest(info))
        if terminated or truncated:
            break
    env.close()
    return {key: np.asarray(value) for key, value in record.items()}


def machine() -> str:
    """What decides numpy's floating-point results here: its version and the SIMD
    extensions it dispatches to (its transcendental functions differ by an ulp across them)."""
    from numpy._core._multiarray_umath import __cpu_features__ as features

    enabled = sorted(name for name, on in features.items() if on)
    return f"numpy {np.__version__} on {platform.machine()}: {' '.join(enabled)}"


def record() -> None:
    """Write the fixture (run once, on the world the fixture describes)."""
    arrays: dict[str, np.ndarray] = {"machine": np.array(machine())}
    for k, (fields, seed, driver) in enumerate(EPISODES):
        for key, value in play(fields, seed, driver=driver).items():
            arrays[f"{k}/{key}"] = value
    FIXTURE.parent.mkdir(exist_ok=True)
    np.savez_compressed(FIXTURE, **arrays)


if __name__ == "__main__":
    record()
