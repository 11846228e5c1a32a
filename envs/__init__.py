"""Gymnasium environments of exgen; importing this package registers their ids.

>>> import gymnasium as gym, exgen
>>> env = gym.make("LunarLanding-v0", gravity=3.71)
>>> cities = gym.make_vec("CityDriving-v0", num_envs=64)  # the batched city world
"""

from gymnasium.envs.registration import register, registry

from exgen.envs.lunar.public import MAX_EPISODE_STEPS

if "LunarLanding-v0" not in registry:
    register(
        id="LunarLanding-v0",
        entry_point="exgen.envs.lunar.env:LunarLandingEnv",
        max_episode_steps=MAX_EPISODE_STEPS,
    )

if "CityDriving-v0" not in registry:
    register(id="CityDriving-v0", entry_point="exgen.envs.city.env:CityDrivingEnv",
             vector_entry_point="exgen.envs.city.vector_env:CityDrivingVectorEnv")

if "ContextMixture-v0" not in registry:  # a training set of contexts: envs/mixture.py
    register(id="ContextMixture-v0", entry_point="exgen.envs.mixture:ContextMixture")
