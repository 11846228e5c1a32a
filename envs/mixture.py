"""Several contexts of one world as one env: a training set of contexts.

``gym.make("ContextMixture-v0", env_id="LunarLanding-v0", contexts=[{"gravity": 9.81},
{"gravity": 3.71}])`` plays each episode in one of the contexts, drawn uniformly from
the mixture's generator; a seeded reset makes the draw and the episode repeatable.
Every context must give the same observation and action spaces. ``info["context"]``
is the drawn env's own, and ``info["context_index"]`` says which one it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

#: Reset seeds handed to the drawn env are below this.
_SEED_LIMIT = 2**31


class ContextMixture(gym.Env):
    """Episodes of ``env_id``, each in one of ``contexts`` (env keyword dicts)."""

    metadata = {"render_modes": ["human", "rgb_array"]}

    def __init__(self, env_id: str, contexts: Sequence[Mapping[str, Any]],
                 render_mode: str | None = None) -> None:
        if isinstance(contexts, Mapping) or not contexts:
            raise ValueError("contexts must be a non-empty list of context dicts")
        self.envs = [gym.make(env_id, render_mode=render_mode, **dict(c)) for c in contexts]
        first = self.envs[0]
        for index, env in enumerate(self.envs[1:], start=1):
            for name in ("observation_space", "action_space"):
                if getattr(env, name) != getattr(first, name):
                    raise ValueError(f"context {index} gives another {name.replace('_', ' ')} "
                                     f"({getattr(env, name)}) than context 0 "
                                     f"({getattr(first, name)}); a mixture needs one")
        self.observation_space = first.observation_space
        self.action_space = first.action_space
        self.metadata = {**first.metadata, "render_modes": first.metadata["render_modes"]}
        self.render_mode = render_mode
        self.spec_id = env_id
        self.current = first

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        index = int(self.np_random.integers(len(self.envs)))
        self.current = self.envs[index]
        observation, info = self.current.reset(
            seed=int(self.np_random.integers(_SEED_LIMIT)), options=options)
        return observation, {**info, "context_index": index}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        return self.current.step(action)

    def render(self) -> np.ndarray | None:
        return self.current.render()

    def close(self) -> None:
        for env in self.envs:
            env.close()


def env_arguments(env_id: str, kwargs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(id, kwargs)`` for ``gym.make``: ``env_id`` itself, or the mixture when
    ``kwargs`` holds ``contexts`` (a training set of several contexts)."""
    if "contexts" in kwargs:
        return "ContextMixture-v0", {"env_id": env_id, **kwargs}
    return env_id, dict(kwargs)


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make`` of ``env_id``, or of the mixture of ``contexts`` when given."""
    mixed_id, arguments = env_arguments(env_id, kwargs)
    return gym.make(mixed_id, **arguments)
