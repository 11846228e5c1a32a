"""The held-out episodes of ``exgen compare``'s transfer and training-context jobs.

:func:`play_instances` gives each held-out instance (its env arguments) its trials, the
first reset of instance ``i`` seeded ``first_seed + i``, the agent judged as the
criterion judges (deterministic actions), from its snapshot. An agent that
:func:`~exgen.agents.batched_episodes.plays_batched` (an SB3 agent with discrete actions,
which learns nothing while it plays) plays every instance at once, loaded once: a load
per instance would give it the same policy. Any other agent (the planners, ``mbrl``, a
user's) plays instance by instance, loaded afresh for each, learning between trials where
``learn`` asks (never after the last one, which nothing would use).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym

from exgen.agents.records import EpisodeRecord


def play_instances(env_id: str, snapshot: Path, instances: Sequence[dict[str, Any]],
                   first_seed: int, trials: int, *, agent_name: str, learn: bool,
                   batched: bool = True, world: str = "auto") -> list[list[EpisodeRecord]]:
    """Per instance (``instances[i]``: its env arguments), the records of its ``trials``
    episodes, as :func:`~exgen.agents.episodes.run_episodes` numbers them (``episode``
    the trial, ``total_steps`` counted within the instance, ``seed`` the first reset's).
    ``batched=False`` plays instance by instance whatever the agent; ``world`` picks the
    envs of a batched play (:func:`~exgen.agents.episode_worlds.episode_world`)."""
    from exgen.agents.batched_episodes import play_batched, plays_batched

    if not instances:
        return []
    env, learner = _loaded(env_id, snapshot, instances[0])
    if batched and plays_batched(learner):
        env.close()
        return play_batched(learner, env_id, instances,
                            [first_seed + i for i in range(len(instances))], trials,
                            agent_name=agent_name, world=world)
    played = [_play(learner, env, first_seed, trials, learn, agent_name)]
    for instance, kwargs in enumerate(instances[1:], start=1):
        env, learner = _loaded(env_id, snapshot, kwargs)  # afresh: no leakage
        played.append(_play(learner, env, first_seed + instance, trials, learn, agent_name))
    return played


def _loaded(env_id: str, snapshot: Path, kwargs: dict[str, Any]) -> tuple[gym.Env, Any]:
    """An env of the instance and the agent loaded from ``snapshot`` on its public view
    (:class:`~exgen.agents.public_view.PublicView`); episodes are recorded from the env."""
    from exgen.agents.public_view import PublicView
    from exgen.agents.training import load_trained_agent

    env = gym.make(env_id, **kwargs)
    view = PublicView(env)
    learner, _ = load_trained_agent(snapshot, env=view)
    learner.env = getattr(learner, "env", None) or view
    return env, learner


def _play(learner: Any, env: gym.Env, seed: int, trials: int, learn: bool,
          agent_name: str) -> list[EpisodeRecord]:
    """One instance's trials, played on ``env``, which is then closed."""
    from exgen.agents.episodes import run_episodes

    try:
        return run_episodes(learner, env, trials, seed=seed, deterministic=True, learn=learn,
                            learn_after_last=False, agent_name=agent_name)
    finally:
        env.close()
