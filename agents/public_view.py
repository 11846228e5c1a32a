"""What a fair agent may see of an env: observations, rewards, ends, success, and the map.

``PublicView`` wraps an env so that ``info`` carries only ``is_success`` (and, at a
reset, the published ``map`` of a world that has one), the spec
carries only the id, and neither ``unwrapped`` nor the wrapped env's attributes can
be reached. Benchmarks of the model-based planners run them through it, and a test
proves they still land, so they cannot read hidden state such as ``info["context"]``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym

#: The only info keys an agent may read: success, and the map a navigation app gives.
ALLOWED_INFO = ("is_success", "map")


class PublicView(gym.Wrapper):
    """Hide everything but the published interface of ``env``."""

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(**kwargs)
        return observation, public_info(info)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated, truncated, public_info(info)

    @property
    def unwrapped(self) -> gym.Env:
        raise AttributeError("PublicView hides the env's internals")

    @property
    def spec(self) -> gym.envs.registration.EnvSpec | None:
        spec = self.env.spec
        return None if spec is None else dataclasses.replace(spec, kwargs={})

    def get_wrapper_attr(self, name: str) -> Any:
        raise AttributeError(f"PublicView hides {name!r}")


def public_info(info: dict[str, Any]) -> dict[str, Any]:
    """The part of an env's ``info`` that every agent may read."""
    return {key: info[key] for key in ALLOWED_INFO if key in info}

