"""What a fair agent may see of an env: observations, rewards, ends, success, and the map.

Every agent, in every path (``exgen train``, ``exgen evaluate``, ``exgen compare``, the
benchmarks), is built on a view, never on the env itself:

- :class:`PublicView` wraps one env: ``info`` carries only ``ALLOWED_INFO``
  (``is_success`` and, at a reset, the published ``map`` of a world that has one), the
  spec only the id, and no attribute leads to the wrapped env;
- :class:`PublicVecEnv` does the same for an SB3 ``VecEnv`` (the one an SB3 agent is
  built on), keeping the info keys SB3 itself reads (``VEC_INFO``) and refusing
  ``get_attr``, ``set_attr`` and ``env_method`` but for ``VEC_ATTRIBUTES``.

The wrapped env is held by a sealed callable (:func:`_sealed`): a C-level function
wrapper with no ``__closure__``, ``__wrapped__`` or ``__self__``, so that ordinary
attribute access, ``vars()``, bound methods' ``__self__``, the methods' ``__closure__``
and ``__globals__``, and pickling (refused) reach nothing of the env. What a view
cannot stop (``gc``, frames, ``ctypes``) is in docs/protocol.md.

Whatever records an episode for the store (outcome, infractions, context), and every
learner-only wrapper (give-up, shaping), sits between the env and the view: it is the
experiment runner's, not the agent's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec
from stable_baselines3.common.vec_env import VecEnv

#: The only info keys an agent may read: success, and the map a navigation app gives.
ALLOWED_INFO = ("is_success", "map")
#: Info keys a vectorized view keeps besides: what SB3's algorithms read (the last
#: observation of an ended episode, truncation, and ``Monitor``'s return and length).
VEC_INFO = (*ALLOWED_INFO, "terminal_observation", "TimeLimit.truncated", "episode")
#: Sub-env attributes that :meth:`PublicVecEnv.get_attr` answers (SB3 reads
#: ``render_mode``; ``spec`` comes with its id only).
VEC_ATTRIBUTES = ("render_mode", "spec")
#: What a view's sealed callable does: the public operations of an env.
_OPERATIONS = ("reset", "step", "render", "close")


def public_info(info: dict[str, Any], keys: Sequence[str] = ALLOWED_INFO) -> dict[str, Any]:
    """The part of an env's ``info`` that every agent may read (``keys`` of it)."""
    return {key: info[key] for key in keys if key in info}


def public_spec(spec: EnvSpec | None) -> EnvSpec | None:
    """``spec`` with its id only: no entry point, no kwargs (the context)."""
    return None if spec is None else EnvSpec(id=spec.id)


def _sealed(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` behind CPython's C function wrapper (an uncached ``lru_cache``),
    which keeps it out of reach: no ``__wrapped__``, ``__closure__`` or ``__self__``,
    and it pickles by name only."""
    wrapper = functools.lru_cache(maxsize=0)(function)
    del wrapper.__wrapped__
    if hasattr(wrapper, "__closure__"):  # the pure-Python fallback would expose it
        raise RuntimeError("PublicView needs CPython's C functools")
    return wrapper


def _env_operations(env: gym.Env) -> Callable[..., Any]:
    """A sealed ``call(operation, *arguments)`` doing one of ``_OPERATIONS`` on ``env``
    and returning only its public part."""

    def call(operation: str, *arguments: Any, **keywords: Any) -> Any:
        if operation == "reset":
            observation, info = env.reset(*arguments, **keywords)
            return observation, public_info(info)
        if operation == "step":
            observation, reward, terminated, truncated, info = env.step(*arguments)
            return observation, reward, terminated, truncated, public_info(info)
        if operation == "render":
            return env.render()
        if operation == "close":
            return env.close()
        raise AttributeError(f"a public view offers {', '.join(_OPERATIONS)}, "
                             f"not {operation!r}")

    return _sealed(call)


class _Sealed:
    """No pickling, copying or ``__getattr__`` passthrough."""

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"a {type(self).__name__} cannot be pickled or copied: it would "
                        f"carry the env it hides")

    def __reduce__(self) -> Any:
        return self.__reduce_ex__(None)

    def __getstate__(self) -> Any:
        return self.__reduce_ex__(None)


class PublicView(_Sealed, gym.Env):
    """Hide everything but the published interface of ``env``.

    The view has the env's spaces, ``metadata`` and ``render_mode``, a spec with the
    id only, its own ``np_random``, and ``reset``, ``step``, ``render`` and ``close``;
    ``unwrapped`` is the view itself.
    """

    def __init__(self, env: gym.Env) -> None:
        self.observation_space = env.observation_space
        self.action_space = env.action_space
        self.metadata = dict(env.metadata)
        self.render_mode = env.render_mode
        self.spec = public_spec(env.spec)
        self.__call = _env_operations(env)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        return self.__call("reset", seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        return self.__call("step", action)

    def render(self) -> Any:
        return self.__call("render")

    def close(self) -> None:
        self.__call("close")

    def get_wrapper_attr(self, name: str) -> Any:
        """Only the view's own attributes: nothing of the wrapped env."""
        if name.startswith("_"):
            raise AttributeError(f"PublicView hides {name!r}")
        return getattr(self, name)

    def __str__(self) -> str:
        return f"<PublicView<{self.spec.id if self.spec else '?'}>>"


def _vec_operations(venv: VecEnv) -> Callable[..., Any]:
    """A sealed ``call(operation, *arguments)`` on ``venv`` for :class:`PublicVecEnv`."""

    def call(operation: str, *arguments: Any) -> Any:
        if operation == "reset":
            observations = venv.reset()
            return observations, [public_info(i, VEC_INFO) for i in venv.reset_infos]
        if operation == "step_async":
            return venv.step_async(*arguments)
        if operation == "step_wait":
            observations, rewards, dones, infos = venv.step_wait()
            return observations, rewards, dones, [public_info(i, VEC_INFO) for i in infos]
        if operation == "get_attr":
            name, indices = arguments
            if name not in VEC_ATTRIBUTES:
                raise AttributeError(f"a public view answers get_attr for "
                                     f"{', '.join(VEC_ATTRIBUTES)} only, not {name!r}")
            values = venv.get_attr(name, indices)
            return [public_spec(v) for v in values] if name == "spec" else values
        if operation == "env_is_wrapped":
            return [bool(w) for w in venv.env_is_wrapped(*arguments)]
        if operation in ("seed", "set_options", "close", "get_images"):
            return getattr(venv, operation)(*arguments)
        raise AttributeError(f"a public view does not offer {operation!r}")

    return _sealed(call)


class PublicVecEnv(_Sealed, VecEnv):
    """An SB3 ``VecEnv`` that shows only the public part of ``venv``: observations,
    rewards, dones and ``VEC_INFO``; ``get_attr`` of ``VEC_ATTRIBUTES`` only, no
    ``set_attr``, no ``env_method``, no ``envs`` or ``venv``."""

    def __init__(self, venv: VecEnv) -> None:
        self.__call = _vec_operations(venv)
        super().__init__(venv.num_envs, venv.observation_space, venv.action_space)
        self.metadata = dict(venv.metadata)

    def reset(self) -> Any:
        observations, self.reset_infos = self.__call("reset")
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        self.__call("step_async", actions)

    def step_wait(self) -> Any:
        return self.__call("step_wait")

    def close(self) -> None:
        self.__call("close")

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        return self.__call("seed", seed)

    def set_options(self, options: list[dict] | dict | None = None) -> None:
        self.__call("set_options", options)

    def get_images(self) -> Sequence[np.ndarray | None]:
        return self.__call("get_images")

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return self.__call("get_attr", attr_name, indices)

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        raise AttributeError(f"a public view sets no attribute of its envs ({attr_name!r})")

    def env_method(self, method_name: str, *method_args: Any, indices: Any = None,
                   **method_kwargs: Any) -> list[Any]:
        raise AttributeError(f"a public view calls no method of its envs ({method_name!r})")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper],
                       indices: Any = None) -> list[bool]:
        return self.__call("env_is_wrapped", wrapper_class, indices)


def as_public(env: Any) -> Any:
    """``env`` behind a :class:`PublicView`; a view, a ``VecEnv`` (the caller's to
    hide, see :class:`PublicVecEnv`) or None as it is."""
    if env is None or isinstance(env, PublicView | VecEnv):
        return env
    return PublicView(env)
