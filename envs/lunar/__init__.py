"""Lunar landing world: context, physics, Gymnasium env, renderer and a heuristic pilot."""

from envs.lunar.config import PRESETS, LanderConfig
from envs.lunar.env import ENV_ID, LunarLandingEnv

__all__ = ["ENV_ID", "PRESETS", "LanderConfig", "LunarLandingEnv"]
