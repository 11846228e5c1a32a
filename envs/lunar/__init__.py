"""Lunar landing world: context, physics, Gymnasium env, renderer and a heuristic controller."""

from exgen.envs.lunar.config import PRESETS, LanderConfig
from exgen.envs.lunar.env import ENV_ID, LunarLandingEnv

__all__ = ["ENV_ID", "PRESETS", "LanderConfig", "LunarLandingEnv"]
