"""Record an episode of any ``rgb_array`` env as frames, and save them as GIF or PNG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np


def record_episode(env: gym.Env, policy: Callable[[np.ndarray], Any], seed: int,
                   every: int = 1) -> tuple[list[np.ndarray], dict[str, Any], float]:
    """Run one episode; return every ``every``-th frame, the last info and the return.

    An episode cut by the time limit gets ``info["outcome"] = "time_limit"``.
    """
    if env.render_mode != "rgb_array":
        raise ValueError(f"record_episode needs render_mode='rgb_array', got "
                         f"{env.render_mode!r}")
    observation, _ = env.reset(seed=seed)
    frames = [env.render()]
    total, step = 0.0, 0
    while True:
        observation, reward, terminated, truncated, info = env.step(policy(observation))
        total += float(reward)
        step += 1
        if step % every == 0 or terminated or truncated:
            frames.append(env.render())
        if terminated or truncated:
            if not terminated:
                info = {**info, "outcome": "time_limit"}
            return frames, info, total


def save_gif(frames: list[np.ndarray], path: str | Path, fps: float) -> Path:
    """Write ``frames`` (H, W, 3) uint8 as a looping GIF at ``fps`` frames per second."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:],
                   duration=round(1000 / fps), loop=0, optimize=True)
    return path


def save_png(frame: np.ndarray, path: str | Path) -> Path:
    """Write one (H, W, 3) uint8 frame as PNG."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frame).save(path)
    return path
