"""Lunar landing world: context, physics, Gymnasium env, renderer and a heuristic controller.

``WORLD_INFO`` declares what the experiment layers need to know of it
(:mod:`exgen.envs.lunar.knowledge`)."""

from exgen.envs.lunar.config import PRESETS, LanderConfig
from exgen.envs.lunar.env import ENV_ID, LunarLandingEnv
from exgen.envs.lunar.knowledge import WORLD_INFO

__all__ = ["ENV_ID", "PRESETS", "WORLD_INFO", "LanderConfig", "LunarLandingEnv"]
