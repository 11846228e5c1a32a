"""A Gymnasium vector env (the batched city world) as an SB3 ``VecEnv``.

``CityDriving-v0``'s vector env (:class:`~exgen.envs.city.vector_env.CityDrivingVectorEnv`)
steps N cities as one batch, with Gymnasium's conventions: next-step autoreset and infos
as arrays over the cities. :class:`BatchedVecEnv` gives SB3 its own: a city whose
episode ends is reset within the same step (``reset(options={"reset_mask": done})``),
its last observation goes to ``infos[i]["terminal_observation"]``,
``infos[i]["TimeLimit.truncated"]`` marks a truncation, and infos are one dict per
city. Seeded alike, it plays exactly the episodes of SB3's ``DummyVecEnv`` over N
single envs.

No per-env gym wrapper can wrap one city of a batch: episode statistics come from
SB3's ``VecMonitor`` around it, and giving up from :mod:`exgen.agents.batched_give_up`
inside it, on the world's arrays.

The learner-only wrappers around it (the route reward) read the step's arrays
too: :attr:`BatchedVecEnv.learner_infos` keeps the last step's vector infos, given-up
cities marked, with the world's ``LEARNER_INFO`` keys only
(:func:`exgen.agents.learner_infos.learner_infos` finds them through wrappers).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.env_util import is_wrapped
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices

from exgen.agents.batched_give_up import BatchGiveUp, batch_give_up, gave_up_infos
from exgen.envs.city import public as city_public

#: Env ids with a batched world (a ``vector_entry_point`` honouring ``reset_mask``).
BATCHED_ENVS = ("CityDriving-v0",)
#: Per batched env id: the info keys its learner-only wrappers may read (``LEARNER_INFO``).
LEARNER_INFO = {"CityDriving-v0": city_public.LEARNER_INFO}
#: Methods ``env_method`` refuses: calling them on one city would tear it out of the
#: batch (its world is stepped with the others); ``reset()`` and ``step()`` do it right.
_BATCH_METHODS = ("reset", "step", "drive", "settle", "close")
#: Keyword arguments of ``gym.make_vec`` in a vector env spec's kwargs, not the env's.
_VECTOR_KWARGS = ("num_envs", "vectorization_mode", "vector_kwargs", "wrappers")


class BatchedVecEnv(VecEnv):
    """SB3's ``VecEnv`` over ``venv``, a Gymnasium vector env with next-step autoreset
    whose ``reset`` takes ``options={"reset_mask": mask}``; ``give_up`` (optional) ends
    episodes early before the ended cities are reset.

    ``seed(s)`` seeds city ``i`` with ``s + i`` at the next ``reset()``;
    ``get_attr``, ``set_attr`` and ``env_method`` reach each city (its own ``spec``
    being the batch's, less the vector arguments); ``env_is_wrapped`` checks the cities,
    which a batch builds unwrapped. After each step, ``learner_infos`` holds its vector
    infos (arrays over the cities, ``_key`` masks) of the keys ``learner_keys`` only.
    """

    def __init__(self, venv: gym.vector.VectorEnv, give_up: BatchGiveUp | None = None,
                 learner_keys: tuple[str, ...] = ()) -> None:
        self.venv = venv
        self.give_up = give_up
        self.learner_keys = tuple(learner_keys)
        #: The last step's vector infos of ``learner_keys`` (None before a step).
        self.learner_infos: dict[str, Any] | None = None
        self._actions: np.ndarray | None = None
        super().__init__(venv.num_envs, venv.single_observation_space,
                         venv.single_action_space)
        self.metadata = dict(getattr(self._cities()[0], "metadata", self.metadata))

    # ---------------------------------------------------------------- stepping
    def reset(self) -> Any:
        unused = [options for options in self._options if options]
        if unused:
            raise ValueError(f"a batched env takes no reset options, got {unused[0]}")
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        observations, infos = self.venv.reset(seed=seeds)
        self.reset_infos = unbatch_infos(infos, self.num_envs)
        self.learner_infos = None
        if self.give_up is not None:
            self.give_up.reset()
        self._reset_seeds()
        self._reset_options()
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> Any:
        observations, rewards, terminated, truncated, batch_infos = self.venv.step(
            self._actions)
        if self.give_up is not None:
            gave_up = self.give_up(rewards, terminated, truncated, batch_infos)
            if gave_up.any():
                terminated = terminated | gave_up
                batch_infos = gave_up_infos(batch_infos, gave_up)
        dones = terminated | truncated
        self.learner_infos = {key: batch_infos[key] for name in self.learner_keys
                              for key in (name, f"_{name}") if key in batch_infos}
        # One dict per city, its truncation last but for an ended one's last observation.
        infos = unbatch_infos({**batch_infos, "TimeLimit.truncated": truncated & ~terminated},
                              self.num_envs)
        if dones.any():
            ended = np.flatnonzero(dones).tolist()
            for i in ended:
                infos[i]["terminal_observation"] = _city(observations, i)
            # The ended cities start their next episode now; the others keep their step.
            observations, reset_infos = self.venv.reset(options={"reset_mask": dones})
            for i in ended:
                self.reset_infos[i] = unbatch_info(reset_infos, i)
            if self.give_up is not None:
                self.give_up.reset(dones)
        return observations, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.venv.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            warnings.warn(f"The render mode is {self.render_mode}, but get_images() needs "
                          f"'rgb_array'", stacklevel=2)
            return [None] * self.num_envs
        return list(self.venv.render())

    # ------------------------------------------------------------ the cities
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        if attr_name == "spec":
            return [self._city_spec(env) for env in self._targets(indices)]
        return [_attribute(env, attr_name) for env in self._targets(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for env in self._targets(indices):
            setattr(env, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        if method_name in _BATCH_METHODS:
            raise AttributeError(f"env_method cannot call {method_name!r} on cities of a "
                                 f"batch (it would tear them out of it); call the VecEnv's "
                                 f"own reset() or step()")
        return [_attribute(env, method_name)(*method_args, **method_kwargs)
                for env in self._targets(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper],
                       indices: VecEnvIndices = None) -> list[bool]:
        return [is_wrapped(env, wrapper_class) for env in self._targets(indices)]

    def _cities(self) -> list[gym.Env]:
        """The single envs of the batch (the vector env's ``envs``)."""
        envs = getattr(self.venv.unwrapped, "envs", None)
        if envs is None:
            raise AttributeError(f"{type(self.venv.unwrapped).__name__} shows no single "
                                 f"envs (envs)")
        return list(envs)

    def _targets(self, indices: VecEnvIndices) -> list[gym.Env]:
        cities = self._cities()
        return [cities[i] for i in self._get_indices(indices)]

    def _city_spec(self, env: gym.Env) -> Any:
        """A city's spec, or the batch's less the vector arguments when it has none."""
        spec = env.spec or getattr(self.venv, "spec", None)
        if spec is None or not any(key in spec.kwargs for key in _VECTOR_KWARGS):
            return spec
        return dataclasses.replace(spec, kwargs={k: v for k, v in spec.kwargs.items()
                                                 if k not in _VECTOR_KWARGS})


def make_batched_vec_env(env_id: str, n_envs: int, *, seed: int | None = None,
                         env_kwargs: dict[str, Any] | None = None,
                         table: dict[str, Any] | None = None) -> BatchedVecEnv:
    """``n_envs`` cities of ``env_id`` (made with ``env_kwargs``) in one batch, as SB3's
    ``VecEnv``, giving up as the hyperparameter ``table`` asks; ``seed`` seeds city
    ``i`` with ``seed + i`` at the first reset (as SB3's ``make_vec_env``)."""
    check_batched(env_id, env_kwargs or {})
    cities = gym.make_vec(env_id, num_envs=n_envs, vectorization_mode="vector_entry_point",
                          **(env_kwargs or {}))
    vec = BatchedVecEnv(cities, batch_give_up(table or {}, env_id, n_envs),
                        LEARNER_INFO.get(env_id, ()))
    if seed is not None:
        vec.seed(seed)
    return vec


def check_batched(env_id: str, env_kwargs: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless ``env_id`` with ``env_kwargs`` has a batched world."""
    if env_id not in BATCHED_ENVS:
        raise ValueError(f"vec_env 'batched' runs {', '.join(BATCHED_ENVS)} only, not "
                         f"{env_id}; use dummy or subproc")
    if "contexts" in env_kwargs:
        raise ValueError("vec_env 'batched' cannot train on a mixture of contexts "
                         "('contexts'); use dummy or subproc")


def unbatch_infos(infos: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Gymnasium's vector ``infos`` (arrays over the envs, each key with a ``_key`` mask,
    dicts nested alike) as one dict per env, numbers as Python's."""
    keys, columns = [], []
    for key, value, present in _columns(infos):
        if present is not None and not present.all():  # a key some envs lack
            return _unbatch_by_env(infos, n)
        keys.append(key)
        columns.append(unbatch_infos(value, n) if isinstance(value, dict)
                       else _items(value))
    if not keys:
        return [{} for _ in range(n)]
    # Every env has every key: one dict per row of the columns, keys in their order.
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


def unbatch_info(infos: dict[str, Any], i: int) -> dict[str, Any]:
    """Env ``i``'s dict of Gymnasium's vector ``infos``: ``unbatch_infos(infos, n)[i]``."""
    info: dict[str, Any] = {}
    for key, value, present in _columns(infos):
        if present is not None and not present[i]:
            continue
        if isinstance(value, dict):
            info[key] = unbatch_info(value, i)
        else:
            info[key] = value[i:i + 1].tolist()[0] if value.ndim == 1 else value[i]
    return info


def _unbatch_by_env(infos: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """:func:`unbatch_infos` filling each env's dict key by key, where some envs lack
    some keys (each dict keeps the keys' order)."""
    unbatched: list[dict[str, Any]] = [{} for _ in range(n)]
    for key, value, present in _columns(infos):
        indices = range(n) if present is None else np.flatnonzero(present)
        items = unbatch_infos(value, n) if isinstance(value, dict) else _items(value)
        for i in indices:
            unbatched[i][key] = items[i]
    return unbatched


def _columns(infos: dict[str, Any]) -> Iterator[tuple[str, Any, np.ndarray | None]]:
    """Each key of Gymnasium's vector ``infos`` (its ``_key`` masks skipped), its value,
    and its mask (None where it has none)."""
    for key, value in infos.items():
        if not (key.startswith("_") and key[1:] in infos):
            yield key, value, infos.get(f"_{key}")


def _items(value: np.ndarray) -> Any:
    """Python numbers (and the objects of an object array) from a flat array; rows of
    an array of more dimensions."""
    return value.tolist() if value.ndim == 1 else value


def _attribute(env: gym.Env, name: str) -> Any:
    """``env``'s attribute ``name``, through its wrappers if any (as ``DummyVecEnv``)."""
    return env.get_wrapper_attr(name) if isinstance(env, gym.Env) else getattr(env, name)


def _city(observations: Any, i: int) -> Any:
    """City ``i``'s observation out of a batch (a flat array, or a dict of them), a copy."""
    if isinstance(observations, dict):
        return {key: value[i].copy() for key, value in observations.items()}
    return observations[i].copy()
