"""Agent names: built-ins, the planner of each env, and ``package.module:Class`` paths."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from exgen.agents.base import can_save, learning_hooks, unsaved_learning
from exgen.agents.random_agent import RandomAgent
from exgen.agents.sb3 import ALGORITHMS, SB3Agent

#: Built-in names besides the SB3 algorithms.
BUILTIN_NAMES = (*ALGORITHMS, "random", "planner", "mbrl")


class AgentNotFound(ValueError):
    """A name that is neither built in nor an importable ``module:Class`` with predict."""


def resolve(name: str) -> Callable[..., Any]:
    """The factory behind ``name``; called as ``factory(env, **hyperparameters)``."""
    if not isinstance(name, str) or not name:
        raise AgentNotFound(f"agent name must be a non-empty string, got {name!r}")
    if name in ALGORITHMS:
        return lambda env, **kwargs: SB3Agent(env, name, **kwargs)
    if name == "random":
        return RandomAgent
    if name == "planner":
        return _planner
    if name == "mbrl":  # imported here: the model-based agent is only needed when named
        from exgen.agents.model_based import ModelBasedAgent

        return ModelBasedAgent
    if ":" not in name:
        raise AgentNotFound(f"unknown agent {name!r}; valid: {', '.join(BUILTIN_NAMES)}, "
                            f"or a 'package.module:ClassName' import path")
    return _import(name)


def make_agent(name: str, env: Any, **hyperparameters: Any) -> Any:
    """An agent called ``name`` bound to ``env``; hyperparameters override defaults."""
    return resolve(name)(env, **hyperparameters)


def unsaved_learning_of(name: str) -> str | None:
    """Why agent ``name`` could not keep what it learns (learning hooks, no ``save``), or
    None. Only a class is inspected: a factory function is taken on trust."""
    factory = resolve(name)
    return unsaved_learning(factory, name) if isinstance(factory, type) else None


def is_learning_agent(name: str) -> bool:
    """Whether agent ``name`` learns as the protocol's learning agents do (to its budget,
    with a snapshot at the criterion, and relearning): an SB3 algorithm, or a class with
    learning hooks (``observe``, ``end_episode`` or its own ``learn``) and ``save``. A
    factory function, the planner's name among them, is not inspected: the physics
    planners measure a world's unknowns within a model written in, and the protocol
    gives them one snapshot."""
    if name in ALGORITHMS:
        return True
    factory = resolve(name)
    return isinstance(factory, type) and bool(learning_hooks(factory)) and can_save(factory)


def _import(path: str) -> Callable[..., Any]:
    """Import ``package.module:Class``, looking in the current folder too (as
    ``python -m`` does), so a user's module beside their runs is found."""
    module_name, _, attribute = path.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise AgentNotFound(f"cannot import module {module_name!r} for agent {path!r}: "
                            f"{error}") from None
    factory = getattr(module, attribute, None)
    if factory is None:
        raise AgentNotFound(f"module {module_name!r} has no attribute {attribute!r} "
                            f"(agent {path!r})")
    if not callable(getattr(factory, "predict", None)):
        raise AgentNotFound(f"{path!r} has no predict() method; an agent needs "
                            f"predict(observation, state=None, episode_start=None, "
                            f"deterministic=False)")
    return factory


def _planner(env: gym.Env, **hyperparameters: Any) -> Any:
    env_id = _env_id(env)
    from exgen import physics_baseline

    factory = getattr(physics_baseline, "PLANNERS", {}).get(env_id)
    if factory is None:
        known = ", ".join(getattr(physics_baseline, "PLANNERS", {})) or "none yet"
        raise AgentNotFound(f"no physics planner for env {env_id!r}; planners exist for: "
                            f"{known}")
    return factory(env, **hyperparameters)


def _env_id(env: Any) -> str:
    spec = getattr(env, "spec", None)
    return spec.id if spec is not None else type(env).__name__
