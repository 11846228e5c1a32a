"""City driving: ``CityDriving-v0`` and its parts (config, map, world, renderer).

``WORLD_INFO`` declares what the experiment layers need to know of it
(:mod:`exgen.envs.city.knowledge`)."""

from exgen.envs.city.config import PRESETS, CityConfig
from exgen.envs.city.knowledge import WORLD_INFO

__all__ = ["PRESETS", "WORLD_INFO", "CityConfig"]
