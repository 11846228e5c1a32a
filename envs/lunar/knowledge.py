"""What the experiment layers know of ``LunarLanding-v0``: see :mod:`exgen.envs.world_info`."""

from __future__ import annotations

from exgen.envs.lunar.config import LanderConfig
from exgen.envs.world_info import SweepFigure, WorldInfo

WORLD_INFO = WorldInfo(
    env_id="LunarLanding-v0",
    config_class=LanderConfig,
    interface_keys=frozenset({"continuous", "observe_context", "observe_fuel"}),
    # ``info["context"]`` adds whether the pad can be reached, why not, and the thrust
    # to weight ratio; the terrain seed is constant bookkeeping.
    derived_context_keys=frozenset({"landable", "landable_reason", "thrust_to_weight",
                                    "terrain_seed"}),
    sweep=SweepFigure(field="gravity", label="gravity [m/s²]", split_field="wind_speed",
                      split_label="wind [m/s]", split_name="wind",
                      split_legend="strong wind"),
)
