"""What the worlds' Gymnasium envs share: a lazily made renderer, and action checks.

An env keeps its world in ``self.world`` and says in ``_new_renderer()`` how to draw
it; :class:`WorldEnv` renders on demand (importing pygame only then), closes the
renderer, and leaves it out when the env is pickled.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class WorldEnv(gym.Env):
    """A Gymnasium env over a world object, with the renderer made on first use."""

    world: Any = None
    _renderer: Any = None

    def _new_renderer(self) -> Any:
        """A renderer for ``self.render_mode`` with ``render(world)`` and ``close()``."""
        raise NotImplementedError

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode="
                            "'rgb_array' or 'human' to gym.make")
            return None
        if self.world is None:
            raise RuntimeError("call reset() before render()")
        if self._renderer is None:
            self._renderer = self._new_renderer()
        return self._renderer.render(self.world)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_renderer"] = None
        return state


def discrete_action(action: Any, count: int) -> int:
    """``action`` as an int in ``0..count-1``, or an error saying what is valid."""
    valid = f"0..{count - 1}"
    if (isinstance(action, np.ndarray) and action.shape == ()) or isinstance(action, np.generic):
        if not np.issubdtype(action.dtype, np.integer):
            raise TypeError(f"discrete action must be an integer in {valid}, got dtype "
                            f"{action.dtype}")
        action = int(action)
    elif isinstance(action, bool) or not isinstance(action, int):
        raise TypeError(f"discrete action must be an integer in {valid}, got "
                        f"{type(action).__name__} {action!r}")
    if not 0 <= action < count:
        raise ValueError(f"discrete action must be in {valid}, got {action}")
    return action
