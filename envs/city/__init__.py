"""City driving: ``CityDriving-v0`` and its parts (config, map, world, renderer)."""

from exgen.envs.city.config import PRESETS, CityConfig

__all__ = ["PRESETS", "CityConfig"]
