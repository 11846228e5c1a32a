"""Steps per second of ``LunarLanding-v0`` against Gymnasium's Box2D ``LunarLander-v3``.

Both envs are built by ``gym.make`` at default settings and driven by the same seeded
sequence of random actions in the same action mode, resetting whenever an episode
ends (resets are part of the cost, as in training). Each measurement is repeated and
the best run kept, which filters out interference from other processes.
"""

from __future__ import annotations

import gymnasium as gym

import exgen  # noqa: F401  (registers LunarLanding-v0)
from exgen.envs.lunar.env import LunarLandingEnv
from exgen.envs.speed_benchmark import Throughput, measure, random_actions, timed

PEER_ID = "LunarLander-v3"


def compare(steps: int = 20_000, repeats: int = 3, continuous: bool = False,
            seed: int = 0) -> tuple[Throughput, Throughput | None]:
    """Throughput of ``LunarLanding-v0`` and of ``LunarLander-v3`` (None without Box2D)."""
    actions = random_actions(steps, continuous, seed)
    ours = gym.make("LunarLanding-v0", continuous=continuous)
    result = Throughput("LunarLanding-v0", steps, repeats, measure(ours, actions, repeats, seed))
    try:
        peer = gym.make(PEER_ID, continuous=continuous)
    except gym.error.DependencyNotInstalled:
        return result, None
    return result, Throughput(PEER_ID, steps, repeats, measure(peer, actions, repeats, seed))


def profile_components(steps: int = 20_000, continuous: bool = False,
                       seed: int = 0) -> dict[str, float]:
    """Microseconds per step spent in physics, observation, reward and wrappers.

    Replays the same actions through each layer separately: the pymunk world alone,
    the observation and the reward/termination logic on the world's state, the bare
    env, and the env as ``gym.make`` wraps it.
    """
    actions = random_actions(steps, continuous, seed)
    wrapped = gym.make("LunarLanding-v0", continuous=continuous)
    bare: LunarLandingEnv = wrapped.unwrapped
    timings = {"total (gym.make)": measure(wrapped, actions, 1, seed),
               "bare env": measure(bare, actions, 1, seed)}
    physics = observation = reward = 0.0
    bare.reset(seed=seed)
    for action in actions:
        throttles = bare._throttles(action)
        elapsed, _ = timed(lambda t=throttles: bare.world.step(t))
        physics += elapsed
        kinematics = bare.world.kinematics()
        elapsed, _ = timed(lambda k=kinematics: bare._observe(k))
        observation += elapsed
        elapsed, outcome = timed(lambda k=kinematics: bare._judge(k))
        reward += elapsed
        if outcome != "flying":
            bare.reset(seed=None)
    per_step = {name: 1e6 / value for name, value in timings.items()}
    return {
        "physics (pymunk world step)": 1e6 * physics / steps,
        "observation": 1e6 * observation / steps,
        "reward and termination": 1e6 * reward / steps,
        "rest of env.step and resets": per_step["bare env"] - 1e6 * (physics + observation
                                                                      + reward) / steps,
        "wrappers (TimeLimit, OrderEnforcing, checker)": per_step["total (gym.make)"]
        - per_step["bare env"],
        "total (gym.make)": per_step["total (gym.make)"],
    }
