"""An agent written to peek at the hidden context through every path Python offers.

:func:`peek` tries each way from an env (or an SB3 ``VecEnv``) to the wrapped env and
returns what it found that reveals the context: the gravity ``SECRET`` as a number, a
``LanderConfig``, a context dict, or a real env behind the view. ``gc``, frames and
``ctypes`` are left out: docs/protocol.md says a view cannot stop them.

:class:`Peeker` peeks at construction, at each reset and in every ``observe``, and
writes its findings to the JSON file named by ``$PEEK_OUT`` (for ``exgen train`` in a
subprocess).
"""

from __future__ import annotations

import json
import os
import pickle
import types
from typing import Any

import numpy as np

#: The gravity the tests hide (``--context gravity=3.3``), and the city's amber phase
#: [s] (``amber_s=3.3``), which no public part of the city shows.
SECRET = 3.3
#: Types whose instances would reveal the world's parameters.
_REVEALING = ("LanderConfig", "LunarLandingEnv", "CityConfig", "CityDrivingEnv", "TimeLimit",
              "OrderEnforcing", "PassiveEnvChecker", "Monitor", "DummyVecEnv",
              "CityDrivingVectorEnv", "BatchedVecEnv")


def peek(env: Any) -> list[str]:
    """Every path from ``env`` that leads to the context, as ``"path: what"`` lines."""
    found: list[str] = []
    for path, reach in _paths(env):
        try:
            value = reach()
        except Exception:  # a refused path reveals nothing
            continue
        found += [f"{path}: {what}" for what in _revealing(value, depth=4)]
    return found


def _paths(env: Any) -> list[tuple[str, Any]]:
    """``(name, thunk)`` of each way in tried."""
    paths = [
        ("unwrapped", lambda: _other(env, env.unwrapped)),
        ("env", lambda: env.env),
        ("venv", lambda: env.venv),
        ("envs", lambda: env.envs),
        ("get_wrapper_attr", lambda: env.get_wrapper_attr("context")),
        ("get_wrapper_attr config", lambda: env.get_wrapper_attr("config")),
        ("spec.kwargs", lambda: env.spec.kwargs),
        ("vars", lambda: vars(env)),
        ("__dict__", lambda: env.__dict__),
        ("step.__self__", lambda: vars(env.step.__self__)),
        ("step.__closure__", lambda: [c.cell_contents for c in env.step.__func__.__closure__]),
        ("step.__globals__", lambda: _module_values(env.step.__func__.__globals__)),
        ("pickle", lambda: pickle.loads(pickle.dumps(env))),
        ("get_attr", lambda: env.get_attr("context")),
        ("get_attr unwrapped", lambda: env.get_attr("unwrapped")),
        ("get_attr config", lambda: env.get_attr("config")),
        ("env_method", lambda: env.env_method("get_wrapper_attr", "context")),
    ]
    for name, value in list(vars(env).items()) if hasattr(env, "__dict__") else []:
        paths += [(f"{name}.__closure__", lambda v=value: [
            c.cell_contents for c in v.__closure__]),
            (f"{name}.__wrapped__", lambda v=value: v.__wrapped__),
            (f"{name}.__self__", lambda v=value: v.__self__),
            (f"{name}.__reduce__", lambda v=value: v.__reduce__()),
            (f"{name}.__globals__", lambda v=value: _module_values(v.__globals__))]
    return paths


def _other(env: Any, unwrapped: Any) -> Any:
    """``unwrapped`` when it is another object than the view (else nothing to scan)."""
    if unwrapped is env:
        raise LookupError("the view itself")
    return unwrapped


def _module_values(namespace: dict[str, Any]) -> list[Any]:
    """A module's globals, leaving out modules and classes (the world at large)."""
    return [v for v in namespace.values()
            if not isinstance(v, types.ModuleType | type) and not callable(v)]


def _revealing(value: Any, depth: int, seen: set[int] | None = None) -> list[str]:
    """What in ``value`` (followed ``depth`` levels into containers and objects) tells
    the context."""
    seen = set() if seen is None else seen
    if id(value) in seen or depth < 0:
        return []
    seen.add(id(value))
    name = type(value).__name__
    if name in _REVEALING:
        return [name]
    if isinstance(value, float | np.floating) and abs(float(value) - SECRET) < 1e-9:
        return [f"the gravity {value}"]
    if isinstance(value, dict):
        found = ["a context dict"] if "context" in value or "gravity" in value else []
        for item in value.values():
            found += _revealing(item, depth - 1, seen)
        return found
    if isinstance(value, list | tuple | set):
        return [f for item in value for f in _revealing(item, depth - 1, seen)]
    if isinstance(value, np.ndarray | str | bytes | int | types.ModuleType | type):
        return []
    attributes = getattr(value, "__dict__", None)
    return _revealing(attributes, depth - 1, seen) if isinstance(attributes, dict) else []


class Peeker:
    """A random agent that peeks everywhere and reports what it found."""

    def __init__(self, env: Any, seed: int | None = None) -> None:
        self.env = env
        self.rng = np.random.default_rng(seed)
        self.found: list[str] = peek(env)
        self.peeks = 1

    def start_episode(self, observation: np.ndarray, info: dict[str, Any]) -> None:
        self.found += [f"reset info: {w}" for w in _revealing(info, 4)] + peek(self.env)
        self.peeks += 1
        self._report()

    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]:
        return int(self.rng.integers(self.env.action_space.n)), state

    def observe(self, transition: Any) -> None:
        self.found += [f"transition info: {w}" for w in _revealing(transition.info, 4)]
        self.peeks += 1

    def end_episode(self, record: Any) -> None:
        self._report()

    def _report(self) -> None:
        path = os.environ.get("PEEK_OUT")
        if path:
            with open(path, "w", encoding="utf-8") as file:
                json.dump({"found": sorted(set(self.found)), "peeks": self.peeks}, file)
