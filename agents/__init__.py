"""Agents: one interface for RL agents, the planner and your own.

>>> import gymnasium as gym, envs, agents
>>> env = gym.make("LunarLanding-v0")
>>> agent = agents.make_agent("random", env=env, seed=0)
>>> records = agents.run_episodes(agent, env, 3, seed=0)
"""

from exgen.agents.base import Agent, OnlineAgent, Transition
from exgen.agents.episodes import AgentError, run_episodes
from exgen.agents.records import EpisodeLog, EpisodeRecord
from exgen.agents.registry import AgentNotFound, make_agent, resolve

__all__ = ["Agent", "AgentError", "AgentNotFound", "EpisodeLog", "EpisodeRecord",
           "OnlineAgent", "Transition", "make_agent", "resolve", "run_episodes"]
