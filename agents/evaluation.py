"""Success rates of a fixed policy ``policy(env, observation) -> action`` on an env.

For reference controllers (our heuristic controllers, Gymnasium's LunarLander heuristic):
they play through :func:`exgen.agents.run_episodes` like every agent, wrapped in
:class:`PolicyAgent`. A reference controller is not an agent under the protocol: it gets
the env itself (the city's driver reads its lidar layout there), not a public view.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from exgen.agents.episodes import run_episodes

Policy = Callable[[gym.Env, np.ndarray], Any]


class PolicyAgent:
    """A fixed policy of the env and the observation, as an agent."""

    def __init__(self, env: gym.Env, policy: Policy) -> None:
        self.env, self.policy = env, policy

    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]:
        return self.policy(self.env, observation), state


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


def evaluate_policy(env_id: str, policy: Policy, seeds: Iterable[int],
                    success_return: float | None = None, **env_kwargs: Any) -> PolicyStats:
    """Run one episode per seed.

    Success is ``info["is_success"]``; for envs without it (Gymnasium's
    ``LunarLander-v3``), pass ``success_return`` to count a return at least that
    high instead. An episode cut by the time limit counts as outcome ``time_limit``.
    """
    env = gym.make(env_id, **env_kwargs)
    records = run_episodes(PolicyAgent(env, policy), env, seed=list(seeds))
    env.close()
    successes = sum(r.is_success if success_return is None
                    else r.episode_return >= success_return for r in records)
    return PolicyStats(len(records), int(successes),
                       float(np.mean([r.episode_return for r in records])),
                       float(np.mean([r.length for r in records])),
                       Counter(r.outcome for r in records))
