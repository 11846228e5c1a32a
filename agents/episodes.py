"""The one loop that plays episodes with any agent and feeds it its experience."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from exgen.agents.base import Transition
from exgen.agents.public_view import public_info
from exgen.agents.records import (
    EpisodeLog,
    EpisodeRecord,
    driving_score_of,
    infractions_of,
    outcome_of,
)


class AgentError(RuntimeError):
    """An agent's own code raised, or returned an action outside the action space.

    The agent's traceback is chained as ``__cause__``.
    """


def run_episodes(agent: Any, env: gym.Env, n_episodes: int | None = None, *,
                 seed: int | Sequence[int] | None = None, deterministic: bool = False,
                 learn: bool = False, max_steps: int | None = None,
                 callback: Callable[[EpisodeRecord], bool] | None = None,
                 log: EpisodeLog | None = None, agent_name: str = "",
                 learn_after_last: bool = True) -> list[EpisodeRecord]:
    """Play episodes of ``agent`` on ``env`` and return their records.

    ``seed``: an int seeds the first reset (the env's generator continues from there),
    a sequence gives each episode its own seed (and fixes ``n_episodes``). After each
    reset the agent's optional ``start_episode(observation, info)`` hook gets the public
    part of the reset info (``exgen.agents.public_view.ALLOWED_INFO``: the published map of a
    world that has one). With ``learn``, its optional ``observe(transition)`` and
    ``end_episode(record)`` hooks are called; a transition's ``info`` is the public part
    too; without ``learn_after_last``, the last of ``n_episodes`` gets no ``end_episode``
    (transfer trials: what an agent would learn after its last trial is never used).
    This loop is the episode recorder: it reads the outcome, infractions and context of
    ``env`` for the record, so ``env`` is the env itself, while ``agent`` is built on a
    :class:`~exgen.agents.public_view.PublicView` of it. Stops after ``n_episodes``, once
    ``max_steps`` env steps have been taken (checked between episodes), or when
    ``callback`` returns False.
    """
    seeds = list(seed) if isinstance(seed, Sequence) else None
    if seeds is not None:
        n_episodes = len(seeds) if n_episodes is None else min(n_episodes, len(seeds))
    if n_episodes is None and max_steps is None:
        raise ValueError("run_episodes needs n_episodes, max_steps or a seed sequence")
    if n_episodes is not None and n_episodes < 0:
        raise ValueError(f"n_episodes must be >= 0, got {n_episodes}")
    name = agent_name or getattr(agent, "name", type(agent).__name__)
    begin = getattr(agent, "start_episode", None)
    observe = getattr(agent, "observe", None) if learn else None
    end_episode = getattr(agent, "end_episode", None) if learn else None
    started = time.perf_counter()
    episode = log.episodes if log else 0
    total_steps = log.total_steps if log else 0
    records: list[EpisodeRecord] = []
    if max_steps is not None and max_steps <= 0:
        raise ValueError(f"max_steps must be > 0, got {max_steps}")
    steps_run = 0
    while n_episodes is None or len(records) < n_episodes:
        episode_seed = _seed_for(len(records), seed, seeds)
        observation, info = env.reset(seed=episode_seed)
        context = info.get("context", {})
        if begin is not None:
            _call_hook(begin, name, episode, observation, public_info(info))
        state, episode_start = None, np.ones((1,), dtype=bool)
        episode_return, length = 0.0, 0
        while True:
            action, state = _act(agent, name, episode, observation, state, episode_start,
                                 deterministic, env.action_space)
            episode_start = np.zeros((1,), dtype=bool)
            next_observation, reward, terminated, truncated, info = env.step(action)
            episode_return += float(reward)
            length += 1
            total_steps += 1
            if observe is not None:
                _call_hook(observe, name, episode, Transition(
                    observation, action, float(reward), next_observation, terminated,
                    truncated, public_info(info)))
            observation = next_observation
            if terminated or truncated:
                break
        record = ended_record(
            info, terminated, episode=episode, total_steps=total_steps,
            episode_return=episode_return, length=length,
            wall_time=log.elapsed() if log else time.perf_counter() - started,
            agent=name, seed=episode_seed, context=context)
        records.append(record)
        episode += 1
        if end_episode is not None and (learn_after_last or len(records) != n_episodes):
            _call_hook(end_episode, name, record.episode, record)
        if log is not None:
            log.write(record)
        if callback is not None and callback(record) is False:
            break
        steps_run += length
        if max_steps is not None and steps_run >= max_steps:
            break
    return records


def ended_record(info: dict[str, Any], terminated: bool, **fields: Any) -> EpisodeRecord:
    """The record of an episode whose last step gave ``info`` and ``terminated``: its
    success, outcome, infractions and driving score read from them, the other
    :class:`~exgen.agents.records.EpisodeRecord` fields given."""
    return EpisodeRecord(is_success=bool(info.get("is_success", False)),
                         outcome=outcome_of(info, terminated),
                         infractions=infractions_of(info),
                         driving_score=driving_score_of(info), **fields)


def _seed_for(index: int, seed: int | Sequence[int] | None,
              seeds: list[int] | None) -> int | None:
    """The reset seed of the ``index``-th episode: its own, or the first one's only."""
    if seeds is not None:
        return seeds[index]
    return seed if index == 0 else None


def _act(agent: Any, name: str, episode: int, observation: np.ndarray, state: Any,
         episode_start: np.ndarray, deterministic: bool, space: gym.Space) -> tuple[Any, Any]:
    try:
        action, state = agent.predict(observation, state=state, episode_start=episode_start,
                                      deterministic=deterministic)
    except Exception as error:
        raise AgentError(f"agent {name!r} raised in predict() during episode {episode}: "
                         f"{type(error).__name__}: {error}") from error
    if not space.contains(_as_space_item(action, space)):
        raise AgentError(f"agent {name!r} returned {action!r} in episode {episode}, "
                         f"outside the action space {space}")
    return action, state


def _as_space_item(action: Any, space: gym.Space) -> Any:
    """SB3 returns 0-d arrays for discrete actions; spaces want ints or typed arrays."""
    if isinstance(space, gym.spaces.Discrete) and isinstance(action, np.ndarray):
        return action.item() if action.size == 1 and action.dtype.kind in "iu" else action
    if isinstance(space, gym.spaces.Box) and not isinstance(action, np.ndarray):
        return np.asarray(action, dtype=space.dtype)
    if isinstance(space, gym.spaces.Box):
        return action.astype(space.dtype, copy=False)
    return action


def _call_hook(hook: Callable[..., Any], name: str, episode: int, *arguments: Any) -> None:
    try:
        hook(*arguments)
    except Exception as error:
        raise AgentError(f"agent {name!r} raised in {hook.__name__}() during episode "
                         f"{episode}: {type(error).__name__}: {error}") from error
