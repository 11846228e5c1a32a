"""Model-based planners: agents that measure a world's few unknown numbers and plan.

``PLANNERS`` maps an env id to its planner; ``exgen.agents.make_agent("planner", env)``
resolves through it. Planners import only each world's public module.
"""

from exgen.physics_baseline.city_planner import CityPlanner
from exgen.physics_baseline.lunar_planner import LunarPlanner

PLANNERS = {"LunarLanding-v0": LunarPlanner, "CityDriving-v0": CityPlanner}

__all__ = ["PLANNERS", "CityPlanner", "LunarPlanner"]
