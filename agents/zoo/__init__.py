"""Our tuned hyperparameters as rl-baselines3-zoo configuration files.

rl-zoo3 reads a Python config's ``hyperparams`` dict, keyed by env id. Each module
here (``exgen.agents.zoo.ppo``, ``.dqn``, ``.sac``, ``.a2c``, ``.td3``) converts the
matching ``agents/hyperparams/*.toml``, so both tools train with the same numbers::

    python -m rl_zoo3.train --algo ppo --env CityDriving-v0 --gym-packages exgen \\
        --conf-file exgen.agents.zoo.ppo

The algorithm's constructor gets only its own arguments. Our learner-only keys
(:data:`exgen.agents.reward_shaping.SHAPING_KEYS`) become rl-zoo3's wrapper hooks:
giving up goes in ``env_wrapper`` (:func:`~exgen.agents.reward_shaping.zoo_give_up`),
the reward shaping in ``vec_env_wrapper``
(:func:`~exgen.agents.reward_shaping.shape_rewards`) and ``normalize_reward`` in
``normalize`` (rewards only). Unlike our runs, rl-zoo3 wraps its evaluation env as
its training env, so the zoo's evaluations see the shaped rewards too.
"""

from __future__ import annotations

import tomllib
from typing import Any

from exgen.agents.reward_shaping import SHAPING_KEYS
from exgen.agents.sb3 import HYPERPARAMETER_FOLDER, RUN_KEYS

#: Keys rl-zoo3 takes out of a table before it calls the algorithm's constructor
#: (``ExperimentManager._preprocess_hyperparams`` and ``_preprocess_action_noise``).
ZOO_KEYS = ("n_envs", "n_timesteps", "normalize", "frame_stack", "env_wrapper",
            "vec_env_wrapper", "callback", "env_kwargs", "monitor_kwargs", "noise_type",
            "noise_std")
#: Where rl-zoo3 finds the wrappers (``module.function``, called with the table's kwargs).
GIVE_UP = "exgen.agents.reward_shaping.zoo_give_up"
SHAPE_REWARDS = "exgen.agents.reward_shaping.shape_rewards"
#: Our run keys that rl-zoo3 has no hook for.
UNSUPPORTED = tuple(key for key in RUN_KEYS
                    if key not in (*SHAPING_KEYS, "n_envs", "n_timesteps", "frame_stack"))


def zoo_hyperparameters(algorithm: str) -> dict[str, dict[str, Any]]:
    """Every env table of ``algorithm`` in rl-zoo3's vocabulary."""
    with (HYPERPARAMETER_FOLDER / f"{algorithm}.toml").open("rb") as file:
        tables = tomllib.load(file)
    return {env_id: zoo_table(table, env_id) for env_id, table in tables.items()
            if env_id != "default"}


def zoo_table(table: dict[str, Any], env_id: str) -> dict[str, Any]:
    """One of our tables (for ``env_id``) as rl-zoo3 reads it; raise ``ValueError`` on a
    key rl-zoo3 cannot apply."""
    unsupported = sorted(set(table) & set(UNSUPPORTED))
    if unsupported:
        raise ValueError(f"rl-zoo3 has no hook for {', '.join(unsupported)} ({env_id})")
    converted = {k: v for k, v in table.items() if k not in SHAPING_KEYS}
    noise = converted.pop("action_noise", None)
    if noise is not None:
        converted["noise_type"] = noise["type"]
        converted["noise_std"] = noise["std"]
    if isinstance(converted.get("train_freq"), list):
        converted["train_freq"] = tuple(converted["train_freq"])
    if "policy_kwargs" in converted:
        converted["policy_kwargs"] = dict(converted["policy_kwargs"])
    return {**converted, **_shaping_hooks(table, env_id)}


def _shaping_hooks(table: dict[str, Any], env_id: str) -> dict[str, Any]:
    """The rl-zoo3 entries that apply ``table``'s learner-only keys to the training env:
    ``env_wrapper`` for giving up, ``vec_env_wrapper`` for the reward shaping,
    ``normalize`` for ``normalize_reward``; none for a table without such keys."""
    from exgen.agents.reward_shaping import check_shaping, env_wrapper

    shaping = {k: v for k, v in table.items() if k in SHAPING_KEYS}
    check_shaping(shaping, env_id)
    hooks: dict[str, Any] = {}
    if shaping.pop("normalize_reward", False):
        hooks["normalize"] = {"norm_obs": False, "norm_reward": True}  # rl-zoo3 adds gamma
    if env_wrapper(shaping, env_id) is not None:
        hooks["env_wrapper"] = [{GIVE_UP: {"table": shaping, "env_id": env_id}}]
    if shaping.get("step_penalty") or shaping.get("route_reward"):
        hooks["vec_env_wrapper"] = [{SHAPE_REWARDS: {"table": shaping, "env_id": env_id}}]
    return hooks
