"""Helpers shared by the planners' success benchmarks: what the benchmark records of
each episode, and the time of every decision."""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym

from exgen.agents.public_view import public_info


class Recorder(gym.Wrapper):
    """Keeps the last info's recorder keys (a world's ``RECORDER_INFO``) for the
    benchmark; it sits inside the planner's PublicView, which shows the planner the
    world's ``AGENT_INFO`` only."""

    last_info: dict[str, Any] = {}

    def __init__(self, env: gym.Env, keys: tuple[str, ...]) -> None:
        super().__init__(env)
        self.keys = keys

    def step(self, action: Any) -> Any:
        result = self.env.step(action)
        self.last_info = public_info(result[4], self.keys)
        return result


class Timed:
    """Times every ``predict`` of the wrapped agent; forwards everything else."""

    def __init__(self, agent: Any, times: list[float]) -> None:
        self.agent, self.times = agent, times

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = self.agent.predict(*args, **kwargs)
        self.times.append(time.perf_counter() - start)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.agent, name)
