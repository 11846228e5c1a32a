"""What the experiment layers know of ``CityDriving-v0``: see :mod:`exgen.envs.world_info`."""

from __future__ import annotations

from exgen.envs.city.config import CityConfig
from exgen.envs.city.world import INFRACTION_PENALTIES
from exgen.envs.world_info import WorldInfo

WORLD_INFO = WorldInfo(
    env_id="CityDriving-v0",
    config_class=CityConfig,
    interface_keys=frozenset({"continuous", "observe_context", "observe_route",
                              "observe_road_users", "observe_lead", "observe_raster"}),
    # ``info["context"]`` adds the name of the map the episode drove on.
    derived_context_keys=frozenset({"map_name"}),
    infractions=tuple(INFRACTION_PENALTIES),
)
