"""exgen: measure local against extreme generalization on changeable Gymnasium worlds.

Importing ``exgen`` registers the env ids, so both of these work::

    import gymnasium as gym, exgen
    env = gym.make("CityDriving-v0")
    env = gym.make("exgen:LunarLanding-v0")  # Gymnasium's module-prefix syntax

The subpackages are ``exgen.envs``, ``exgen.agents``, ``exgen.physics_baseline``,
``exgen.experiments`` and ``exgen.scripts``.
"""

import exgen.envs  # noqa: F401  (registers the env ids)

__version__ = "0.2.0"
