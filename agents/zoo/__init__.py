"""Our tuned hyperparameters as rl-baselines3-zoo configuration files.

rl-zoo3 reads a Python config's ``hyperparams`` dict, keyed by env id. Each module
here (``exgen.agents.zoo.ppo``, ``.dqn``, ``.sac``, ``.a2c``, ``.td3``) converts the
matching ``agents/hyperparams/*.toml``, so both tools train with the same numbers::

    python -m rl_zoo3.train --algo ppo --env LunarLanding-v0 --gym-packages envs \\
        --conf-file agents.zoo.ppo
"""

from __future__ import annotations

import tomllib
from typing import Any

from exgen.agents.sb3 import HYPERPARAMETER_FOLDER


def zoo_hyperparameters(algorithm: str) -> dict[str, dict[str, Any]]:
    """Every env table of ``algorithm`` in rl-zoo3's vocabulary."""
    with (HYPERPARAMETER_FOLDER / f"{algorithm}.toml").open("rb") as file:
        tables = tomllib.load(file)
    return {env_id: _zoo_table(table) for env_id, table in tables.items()
            if env_id != "default"}


def _zoo_table(table: dict[str, Any]) -> dict[str, Any]:
    converted = dict(table)
    noise = converted.pop("action_noise", None)
    if noise is not None:
        converted["noise_type"] = noise["type"]
        converted["noise_std"] = noise["std"]
    if isinstance(converted.get("train_freq"), list):
        converted["train_freq"] = tuple(converted["train_freq"])
    if "policy_kwargs" in converted:
        converted["policy_kwargs"] = dict(converted["policy_kwargs"])
    return converted
