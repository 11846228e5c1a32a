"""Success rates of a fixed observation -> action policy on a registered env.

A small tool for reference controllers (the heuristic pilot, Gymnasium's LunarLander
heuristic); agents that learn go through ``agents.run_episodes`` instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np


@dataclass(frozen=True)
class PolicyStats:
    """Outcome of one policy in one context over several seeded episodes."""

    episodes: int
    successes: int
    mean_return: float
    mean_length: float
    outcomes: Counter = field(default_factory=Counter)

    @property
    def success_rate(self) -> float:
        return self.successes / self.episodes


def evaluate_policy(env_id: str, policy: Callable[[gym.Env, np.ndarray], Any],
                    seeds: Iterable[int], success_return: float | None = None,
                    **env_kwargs: Any) -> PolicyStats:
    """Run one episode per seed; ``policy(env, observation)`` returns the action.

    Success is ``info["is_success"]``; for envs without it (Gymnasium's
    ``LunarLander-v3``), pass ``success_return`` to count a return at least that
    high instead. An episode cut by the time limit counts as outcome ``time_limit``.
    """
    env = gym.make(env_id, **env_kwargs)
    returns, lengths, outcomes, successes = [], [], Counter(), 0
    for seed in seeds:
        observation, _ = env.reset(seed=seed)
        total, length = 0.0, 0
        while True:
            observation, reward, terminated, truncated, info = env.step(policy(env, observation))
            total += float(reward)
            length += 1
            if terminated or truncated:
                break
        successes += bool(info["is_success"] if success_return is None
                          else total >= success_return)
        outcomes[info.get("outcome", "ended") if terminated else "time_limit"] += 1
        returns.append(total)
        lengths.append(length)
    env.close()
    return PolicyStats(len(returns), successes, float(np.mean(returns)),
                       float(np.mean(lengths)), outcomes)
