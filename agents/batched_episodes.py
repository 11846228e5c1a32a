"""Held-out episodes of an agent that does not learn between them, played many at once.

:func:`run_batched_episodes` plays ``trials`` episodes in each of N instances, each in
its own env: what :func:`~exgen.agents.episodes.run_episodes` plays instance by
instance (the first reset seeded, the later trials continuing the env's generator), with
the policy's forward pass batched over every running episode (:func:`predict_batch`)
and the envs stepped together (:mod:`exgen.agents.episode_worlds`). It returns the same
:class:`~exgen.agents.records.EpisodeRecord` per instance, but for the wall-clock time.

Only an agent that :func:`plays_batched` may: an SB3 agent, which learns nothing while
it plays (``run_episodes`` calls no hook of it), choosing among discrete actions. A batch's
forward pass can differ from a batch of one in the last bit of a logit; that changes a
discrete action only where two logits tie to that bit, while it would move every
continuous action. The agent gets observations only, as through its public view.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from exgen.agents.episode_worlds import EpisodeWorld, episode_world, take_rows
from exgen.agents.episodes import AgentError, _as_space_item, ended_record
from exgen.agents.records import EpisodeRecord
from exgen.agents.sb3 import SB3Agent, grid_action

#: The hooks through which ``run_episodes`` lets an agent see or learn from its episodes.
EPISODE_HOOKS = ("start_episode", "observe", "end_episode")


def plays_batched(agent: Any) -> bool:
    """Whether ``agent``'s episodes may be played by :func:`run_batched_episodes`: an
    :class:`~exgen.agents.sb3.SB3Agent` without episode hooks whose policy picks
    discrete actions (an action grid's included)."""
    return (isinstance(agent, SB3Agent)
            and not any(callable(getattr(agent, hook, None)) for hook in EPISODE_HOOKS)
            and isinstance(agent.model.action_space, gym.spaces.Discrete
                           | gym.spaces.MultiDiscrete))


def predict_batch(agent: SB3Agent, observations: Any, stacks: np.ndarray | None,
                  starts: np.ndarray, deterministic: bool) -> tuple[np.ndarray,
                                                                    np.ndarray | None]:
    """:meth:`SB3Agent.predict` over a batch: one action per row of ``observations``.
    With ``frame_stack`` k > 1, ``stacks`` holds each row's last k observations (rows
    ``starts`` begin an episode: zeros, as ``predict`` stacks them); returns the actions
    and the new stacks."""
    if agent.frame_stack > 1:
        observations = np.asarray(observations, dtype=np.float32)
        size = observations.shape[1]
        stacks = np.roll(stacks, -size, axis=1)
        stacks[starts] = 0.0
        stacks[:, -size:] = observations
        observations = stacks
    actions, _ = agent.model.predict(observations, deterministic=deterministic)
    if agent.grid_actions is not None:
        actions = grid_action(agent.grid_actions, actions, agent.factored)
    return actions, stacks


def run_batched_episodes(agent: SB3Agent, world: EpisodeWorld, seeds: Sequence[int | None],
                         trials: int, *, deterministic: bool = True,
                         agent_name: str = "") -> list[list[EpisodeRecord]]:
    """``trials`` episodes in each env of ``world``, env ``i`` first reset with
    ``seeds[i]``: per env, the records :func:`~exgen.agents.episodes.run_episodes`
    gives for ``run_episodes(agent, env_i, trials, seed=seeds[i])`` (``wall_time``: s
    since this call began)."""
    if not plays_batched(agent):
        raise ValueError(f"{type(agent).__name__} cannot play batched: it needs an SB3 "
                         f"agent without episode hooks, with discrete actions")
    n = world.num_envs
    name = agent_name or getattr(agent, "name", type(agent).__name__)
    started = time.perf_counter()
    records: list[list[EpisodeRecord]] = [[] for _ in range(n)]
    contexts = [info.get("context", {}) for info in world.reset(seeds)]
    returns = np.zeros(n, np.float64)
    lengths = np.zeros(n, np.int64)
    totals = np.zeros(n, np.int64)
    running = np.full(n, trials > 0)
    starts = np.ones(n, np.bool_)
    stacks = _empty_stacks(agent, world.observations, n)
    while running.any():
        rows = np.flatnonzero(running)
        try:
            actions, rows_stacks = predict_batch(
                agent, take_rows(world.observations, rows),
                None if stacks is None else stacks[rows], starts[rows], deterministic)
        except Exception as error:
            raise AgentError(f"agent {name!r} raised in predict() on a batch of "
                             f"{len(rows)}: {type(error).__name__}: {error}") from error
        if stacks is not None:
            stacks[rows] = rows_stacks
        _check_actions(actions, world.action_space, name, rows, records)
        starts[rows] = False
        rewards, terminated, truncated, info_of = world.step(rows, actions)
        returns[rows] += rewards
        lengths[rows] += 1
        totals[rows] += 1
        again = []
        for j in np.flatnonzero(terminated | truncated).tolist():
            i = int(rows[j])
            trial = len(records[i])
            records[i].append(ended_record(
                info_of(i), bool(terminated[j]), episode=trial, total_steps=int(totals[i]),
                episode_return=float(returns[i]), length=int(lengths[i]),
                wall_time=time.perf_counter() - started, agent=name,
                seed=seeds[i] if trial == 0 else None, context=contexts[i]))
            returns[i], lengths[i] = 0.0, 0
            if trial + 1 < trials:
                again.append(i)
            else:
                running[i] = False
        if again:
            for i, info in zip(again, world.reset_rows(np.array(again)), strict=True):
                contexts[i] = info.get("context", {})
            starts[again] = True
    return records


def play_batched(agent: SB3Agent, env_id: str, instances: Sequence[dict[str, Any]],
                 seeds: Sequence[int | None], trials: int, *, agent_name: str = "",
                 world: str = "auto") -> list[list[EpisodeRecord]]:
    """:func:`run_batched_episodes`, deterministic, on the envs of ``instances`` (each
    one's env arguments; ``world`` as :func:`~exgen.agents.episode_worlds.episode_world`
    takes it), which are closed after."""
    envs = episode_world(env_id, instances, world)
    try:
        return run_batched_episodes(agent, envs, seeds, trials, deterministic=True,
                                    agent_name=agent_name)
    finally:
        envs.close()


def _empty_stacks(agent: SB3Agent, observations: Any, n: int) -> np.ndarray | None:
    """Each env's frame stack (zeros), where the agent stacks frames."""
    if agent.frame_stack == 1:
        return None
    size = int(np.prod(np.shape(observations)[1:]))
    return np.zeros((n, size * agent.frame_stack), np.float32)


def _check_actions(actions: np.ndarray, space: gym.Space, name: str, rows: np.ndarray,
                   records: list[list[EpisodeRecord]]) -> None:
    """Raise :class:`AgentError` as ``run_episodes`` does if an action is outside
    ``space`` (a Discrete space's checked at once, others row by row)."""
    if (isinstance(space, gym.spaces.Discrete) and actions.dtype.kind in "iu"
            and actions.shape == (len(rows),)
            and ((actions >= space.start) & (actions < space.start + space.n)).all()):
        return
    for j, action in enumerate(actions):
        if not space.contains(_as_space_item(action, space)):
            i = int(rows[j])
            raise AgentError(f"agent {name!r} returned {np.asarray(action).tolist()!r} in episode "
                             f"{len(records[i])} of env {i}, outside the action space "
                             f"{space}")
