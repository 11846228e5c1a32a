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

from exgen.envs.fields import ContextConfig

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


def context_class(env_id: str) -> type[ContextConfig] | None:
    """The config class of ``env_id``'s context, or None for an env without one."""
    env = gym.make(env_id)
    config = getattr(env.unwrapped, "config", None)
    env.close()
    return type(config) if isinstance(config, ContextConfig) else None


def replace_context(env_id: str, base: Mapping[str, Any],
                    changes: Mapping[str, Any]) -> dict[str, Any]:
    """Env keywords ``base`` (a run's, say) with ``changes`` replacing what they name.

    A ``preset`` on either side becomes the fields it sets first, so a preset in
    ``changes`` replaces those fields of ``base`` (``{"gravity": 9.81}`` changed by
    ``{"preset": "moon"}`` gives ``{"gravity": 1.62}``). A mixture's ``contexts`` each
    get the changes.
    """
    cls = context_class(env_id)
    if cls is None:
        return {**base, **changes}
    changed = cls.without_presets(changes)
    if "contexts" in base:
        return {**base, "contexts": [{**cls.without_presets(c), **changed}
                                     for c in base["contexts"]]}
    return {**cls.without_presets(base), **changed}


def context_of(env: gym.Env) -> dict[str, Any] | list[dict[str, Any]] | None:
    """The context ``env`` was made with, as plain data with its ranges (sampled at
    each reset): its config's fields, a list of them for a mixture, or None."""
    inner = env.unwrapped
    if isinstance(inner, ContextMixture):
        return [context_of(member) for member in inner.envs]
    config = getattr(inner, "config", None)
    return config.to_dict() if isinstance(config, ContextConfig) else None
