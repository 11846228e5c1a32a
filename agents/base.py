"""The agent interface: the shape of a stable-baselines3 model, with the env bound.

An agent is made for one env (``exgen.agents.make_agent(name, env=env)``) and offers

- ``predict(observation, state=None, episode_start=None, deterministic=False)``
  returning ``(action, state)``, SB3's signature; evaluation passes
  ``deterministic=True``;
- ``learn(total_timesteps=None, *, total_episodes=None, callback=None) -> self``;
- ``save(path)`` and the class method ``load(path, env=None)``; optional for an agent
  that does not learn (see :func:`learning_hooks`): a training run then records its
  import path and constructor arguments, and loading builds it afresh.

Agents that learn from their own trials (the physics planner measuring gravity, a
user's agent) also implement the optional hooks ``observe(transition)`` and
``end_episode(record)``; :func:`exgen.agents.run_episodes` feeds them while it plays, so the
same loop serves training, transfer trials and evaluation. An agent that needs what a
world publishes at a reset (the city's map) implements ``start_episode(observation,
info)``, which gets only the public part of the reset ``info``. Subclass
:class:`OnlineAgent` to get ``learn``, ``save`` and ``load`` for free.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from exgen.agents.records import EpisodeRecord


@dataclass(frozen=True)
class Transition:
    """One env step as an agent experienced it."""

    observation: np.ndarray
    action: Any
    reward: float
    next_observation: np.ndarray
    terminated: bool
    truncated: bool
    info: dict[str, Any]


@runtime_checkable
class Agent(Protocol):
    """What every agent offers; an SB3 model fits through :class:`exgen.agents.sb3.SB3Agent`."""

    env: gym.Env | Any

    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]: ...

    def learn(self, total_timesteps: int | None = None, *, total_episodes: int | None = None,
              callback: Any = None) -> Agent: ...

    def save(self, path: str | Path) -> None: ...


class OnlineAgent:
    """Base class for agents that learn between (or during) their own episodes.

    Override ``predict`` and, to learn, ``observe`` and/or ``end_episode``. ``learn``
    plays episodes on the bound env through :func:`exgen.agents.run_episodes`, which calls
    the hooks; ``save`` pickles the agent without its env.
    """

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        self.env = env
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]:
        raise NotImplementedError

    def observe(self, transition: Transition) -> None:
        """Called after every step with what happened; learn from it here."""

    def end_episode(self, record: EpisodeRecord) -> None:
        """Called once an episode has ended, with its record."""

    def learn(self, total_timesteps: int | None = None, *, total_episodes: int | None = None,
              callback: Callable[[EpisodeRecord], bool] | None = None,
              seed: int | None = None) -> OnlineAgent:
        """Play episodes until either budget is spent; ``callback`` returning False stops.

        The step budget is checked between episodes, so the last episode finishes.
        """
        from exgen.agents.episodes import run_episodes

        run_episodes(self, self.env, total_episodes, max_steps=total_timesteps,
                     seed=self.seed if seed is None else seed, learn=True,
                     callback=callback)
        return self

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            pickle.dump(self, file)

    @classmethod
    def load(cls, path: str | Path, env: gym.Env | None = None) -> OnlineAgent:
        with Path(path).open("rb") as file:
            agent = _RenamingUnpickler(file).load()
        if not isinstance(agent, cls):
            raise TypeError(f"{path} holds a {type(agent).__name__}, not a {cls.__name__}")
        agent.env = env
        return agent

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["env"] = None
        return state


#: The methods through which an agent changes itself as it plays or trains.
LEARNING_HOOKS = ("learn", "observe", "end_episode")


def learning_hooks(agent: Any) -> tuple[str, ...]:
    """The learning hooks that ``agent`` (an agent or its class) defines, leaving out
    :class:`OnlineAgent`'s own (they change nothing)."""
    cls = agent if isinstance(agent, type) else type(agent)
    return tuple(hook for hook in LEARNING_HOOKS
                 if callable(getattr(cls, hook, None))
                 and getattr(cls, hook) is not getattr(OnlineAgent, hook))


def can_save(agent: Any) -> bool:
    """Whether ``agent`` (an agent or its class) has a ``save(path)`` method."""
    return callable(getattr(agent, "save", None))


def unsaved_learning(agent: Any, name: str) -> str | None:
    """Why what ``agent`` (an agent or its class) learns would be lost, or None: it has
    learning hooks but no ``save``."""
    hooks = learning_hooks(agent)
    if not hooks or can_save(agent):
        return None
    return (f"agent {name!r} learns ({', '.join(f'{h}()' for h in hooks)}) but has no "
            f"save(path), so what it learns cannot be kept; give it save(path) and a class "
            f"method load(path, env=None), or subclass exgen.agents.OnlineAgent")


#: Top-level packages that became ``exgen.<name>`` in release 0.2.
RENAMED_PACKAGES = ("envs", "agents", "physics_baseline", "experiments", "scripts")


class _RenamingUnpickler(pickle.Unpickler):
    """Loads agents pickled before the packages moved under ``exgen``."""

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] in RENAMED_PACKAGES:
            module = f"exgen.{module}"
        return super().find_class(module, name)

