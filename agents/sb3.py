"""stable-baselines3 algorithms as agents, with tuned defaults from ``hyperparams/*.toml``.

An SB3 model already has ``predict``, ``learn`` and ``save``; :class:`SB3Agent` adds
the env binding, our hyperparameter files, an episode budget, and ``load`` that
restores the wrapper around the model.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper

from exgen.agents.reward_shaping import SHAPING_KEYS, check_shaping

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    "ppo": PPO, "dqn": DQN, "sac": SAC, "a2c": A2C, "td3": TD3}
HYPERPARAMETER_FOLDER = Path(__file__).parent / "hyperparams"
#: Table keys for the training run, not the SB3 constructor (see agents.reward_shaping).
RUN_KEYS = ("n_envs", "n_timesteps", "frame_stack", "action_grid", "factored_actions",
            *SHAPING_KEYS)
#: Constructor arguments that the run sets, not the hyperparameter table.
_NOT_HYPERPARAMETERS = {"self", "env", "seed", "_init_setup_model", "tensorboard_log", "verbose",
                        "device"}
_ACTIVATIONS = ("tanh", "relu", "elu", "leaky_relu")
_NOISES = {"normal": NormalActionNoise, "ornstein-uhlenbeck": OrnsteinUhlenbeckActionNoise}


def load_hyperparameters(algorithm: str, env_id: str) -> dict[str, Any]:
    """The tuned table for ``env_id`` in ``hyperparams/<algorithm>.toml``, or [default]."""
    path = HYPERPARAMETER_FOLDER / f"{algorithm}.toml"
    with path.open("rb") as file:
        tables = tomllib.load(file)
    return dict(tables.get(env_id, tables["default"]))


def _linear_schedule(start: float) -> Any:
    def schedule(progress_remaining: float) -> float:
        return progress_remaining * start

    return schedule


def check_hyperparameters(algorithm: str, env_id: str, overrides: dict[str, Any],
                          action_space: gym.Space | None = None) -> None:
    """Raise ``ValueError`` naming the first key of ``overrides``, or of ``env_id``'s
    table in ``hyperparams/<algorithm>.toml``, that ``algorithm`` cannot take (an
    ``action_grid`` that does not fit ``action_space`` included, when given)."""
    import inspect

    accepted = set(inspect.signature(ALGORITHMS[algorithm].__init__).parameters)
    accepted = (accepted - _NOT_HYPERPARAMETERS) | set(RUN_KEYS) | {"policy"}
    table = load_hyperparameters(algorithm, env_id)
    for keys, where in ((overrides, ""), (table, f" in hyperparams/{algorithm}.toml")):
        unknown = sorted(set(keys) - accepted)
        if unknown:
            raise ValueError(f"unknown {algorithm} hyperparameter {unknown[0]!r}{where}; "
                             f"valid: {', '.join(sorted(accepted))}")
    table = {**table, **overrides}
    check_shaping(table, env_id)
    _frames(table)
    grid = _grid_values(table)
    if grid is not None and action_space is not None:
        grid_actions(grid, action_space)
    _factored_dims(table, grid)
    _build({k: v for k, v in table.items() if k not in RUN_KEYS}, gym.spaces.Discrete(2))


def _frames(table: dict[str, Any]) -> int:
    """The table's ``frame_stack`` (rl-baselines3-zoo's key: how many observations,
    the latest last, the policy sees at once; 1 when absent); raise if invalid."""
    frames = table.get("frame_stack", 1)
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise ValueError(f"frame_stack must be a whole number of observations >= 1, "
                         f"got {frames!r}")
    return frames


def _stacked(env: gym.Env | VecEnv, frames: int) -> gym.Env | VecEnv:
    """``env`` with its ``frames`` latest observations concatenated (SB3's
    ``VecFrameStack`` over a one-env ``DummyVecEnv`` for a plain env), or ``env`` itself
    for 1."""
    from stable_baselines3.common.vec_env import VecFrameStack

    if frames == 1:
        return env
    return VecFrameStack(_vectorized(env), frames)


def _vectorized(env: gym.Env | VecEnv) -> VecEnv:
    """``env`` itself, or a plain env in a one-env ``DummyVecEnv``."""
    return DummyVecEnv([lambda: env]) if isinstance(env, gym.Env) else env


def _grid_values(table: dict[str, Any]) -> list[list[float]] | None:
    """The table's ``action_grid``: per action dimension, the values a discrete learner
    chooses among (every combination is one action); None when absent. Raise if it is
    not a non-empty list of non-empty lists of finite numbers."""
    grid = table.get("action_grid")
    if grid is None:
        return None
    example = "e.g. [[-1, -0.2, 0, 0.2, 1], [-1, 0, 1]] for two action dimensions"
    if not isinstance(grid, list | tuple) or not grid:
        raise ValueError(f"action_grid must be a list of value lists, one per action "
                         f"dimension ({example}), got {grid!r}")
    for dimension, values in enumerate(grid):
        if (not isinstance(values, list | tuple) or not values
                or any(isinstance(v, bool) or not isinstance(v, int | float)
                       or not np.isfinite(v) for v in values)):
            raise ValueError(f"action_grid[{dimension}] must be a non-empty list of finite "
                             f"numbers ({example}), got {values!r}")
    return [[float(v) for v in values] for values in grid]


def _factored_dims(table: dict[str, Any],
                   grid: list[list[float]] | None) -> tuple[int, ...] | None:
    """The number of values per dimension when the table's ``factored_actions`` is
    true (the policy picks each dimension's value on its own), else None."""
    factored = table.get("factored_actions", False)
    if not isinstance(factored, bool):
        raise ValueError(f"factored_actions must be true or false, got {factored!r}")
    if factored and grid is None:
        raise ValueError("factored_actions needs an action_grid (the values per dimension)")
    return tuple(len(values) for values in grid) if factored else None


def grid_actions(grid: list[list[float]], space: gym.Space) -> np.ndarray:
    """Every combination of ``grid``'s values, the first dimension slowest: row i is the
    continuous action that discrete action i stands for. Raise unless ``space`` is a
    flat ``Box`` with one value list per dimension, every value inside its bounds."""
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"action_grid needs a flat continuous (Box) action space, got "
                         f"{space}; a discrete env needs no grid")
    if len(grid) != space.shape[0]:
        raise ValueError(f"action_grid has {len(grid)} value lists; the action space "
                         f"{space} has {space.shape[0]} dimensions")
    for dimension, values in enumerate(grid):
        low, high = float(space.low[dimension]), float(space.high[dimension])
        outside = [v for v in values if not low <= v <= high]
        if outside:
            raise ValueError(f"action_grid[{dimension}] value {outside[0]} is outside the "
                             f"action space's bounds [{low}, {high}]")
    mesh = np.meshgrid(*grid, indexing="ij")
    return np.stack([axis.ravel() for axis in mesh], axis=1).astype(space.dtype)


class VecActionGrid(VecEnvWrapper):
    """A continuous-action ``VecEnv`` seen through ``Discrete(len(actions))``: discrete
    action i steps every env with ``actions[i]``. With ``factored`` (the number of
    values per dimension; ``actions`` their combinations, the first dimension slowest)
    it is seen through ``MultiDiscrete(factored)``: one value index per dimension."""

    def __init__(self, venv: VecEnv, actions: np.ndarray,
                 factored: tuple[int, ...] | None = None) -> None:
        space = (gym.spaces.Discrete(len(actions)) if factored is None
                 else gym.spaces.MultiDiscrete(list(factored)))
        super().__init__(venv, action_space=space)
        self.actions = actions
        self.factored = factored

    def step_async(self, actions: np.ndarray) -> None:
        self.venv.step_async(grid_action(self.actions, actions, self.factored))

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        return self.venv.step_wait()


def grid_action(actions: np.ndarray, chosen: Any,
                factored: tuple[int, ...] | None = None) -> np.ndarray:
    """The continuous action(s) of the policy's ``chosen`` index (or, ``factored``, its
    index per dimension, the last axis), a copy: one row per env for a batch."""
    chosen = np.asarray(chosen, dtype=np.int64)
    if factored is not None:
        chosen = np.ravel_multi_index(tuple(np.moveaxis(chosen, -1, 0)), factored)
    return np.take(actions, chosen, axis=0)


def _behind_grid(env: gym.Env | VecEnv, actions: np.ndarray | None,
                 factored: tuple[int, ...] | None = None) -> gym.Env | VecEnv:
    """``env`` behind :class:`VecActionGrid` (a plain env in a one-env ``DummyVecEnv``),
    or ``env`` itself without grid ``actions``."""
    if actions is None:
        return env
    return VecActionGrid(_vectorized(env), actions.astype(env.action_space.dtype), factored)


def _build(hyperparameters: dict[str, Any], action_space: gym.Space) -> dict[str, Any]:
    """Turn the plain data of a TOML table into SB3 constructor arguments."""
    import torch

    built = dict(hyperparameters)
    for key in ("learning_rate", "clip_range"):
        value = built.get(key)
        if isinstance(value, str) and value.startswith("lin_"):
            built[key] = _linear_schedule(float(value[4:]))
    if isinstance(built.get("train_freq"), list):
        built["train_freq"] = tuple(built["train_freq"])
    if not isinstance(built.get("policy_kwargs", {}), dict):
        raise ValueError(f"policy_kwargs must be a table, e.g. {{\"net_arch\": [64, 64]}}, "
                         f"got {built['policy_kwargs']!r}")
    policy_kwargs = dict(built.get("policy_kwargs", {}))
    activation = policy_kwargs.get("activation_fn")
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation_fn {activation!r} is not one of {_ACTIVATIONS}")
        policy_kwargs["activation_fn"] = getattr(torch.nn, {
            "tanh": "Tanh", "relu": "ReLU", "elu": "ELU", "leaky_relu": "LeakyReLU"}[activation])
    if policy_kwargs:
        built["policy_kwargs"] = policy_kwargs
    noise = built.get("action_noise")
    if isinstance(noise, dict):
        if noise.get("type") not in _NOISES:
            raise ValueError(f"action_noise type must be one of {sorted(_NOISES)}, "
                             f"got {noise.get('type')!r}")
        size = int(np.prod(action_space.shape))
        built["action_noise"] = _NOISES[noise["type"]](
            mean=np.zeros(size), sigma=float(noise["std"]) * np.ones(size))
    return built


class EpisodeBudget(BaseCallback):
    """Stops training once ``max_episodes`` episodes have ended across all envs."""

    def __init__(self, max_episodes: int) -> None:
        super().__init__()
        self.max_episodes = max_episodes
        self.episodes = 0

    def _on_step(self) -> bool:
        self.episodes += int(np.sum(self.locals["dones"]))
        return self.episodes < self.max_episodes


class SB3Agent:
    """An SB3 algorithm bound to a (vectorized) env, with our tuned defaults.

    ``env`` is the training env: a ``VecEnv`` (used as is) or a ``gym.Env`` (wrapped
    in a one-env ``DummyVecEnv``). ``env_id`` picks the hyperparameter table; it
    defaults to the env's spec id. Keyword arguments override the table. A table's
    ``frame_stack`` k > 1 makes the policy see the last k observations: the agent wraps
    the env it learns on in SB3's ``VecFrameStack`` and stacks in ``predict`` likewise.
    A table's ``action_grid`` makes a discrete learner of a continuous-action env: the
    policy picks one of the grid's combinations (:func:`grid_actions`), and ``predict``
    returns the continuous action it stands for, so the env and its evaluations see
    the env's own action space. With ``factored_actions`` the policy picks one value
    per dimension instead (``MultiDiscrete``), each from its own categorical head.
    """

    def __init__(self, env: gym.Env | VecEnv, algorithm: str = "ppo", *,
                 seed: int | None = None, env_id: str | None = None, verbose: int = 0,
                 tensorboard_log: str | None = None, **hyperparameters: Any) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unknown SB3 algorithm {algorithm!r}; valid: "
                             f"{', '.join(ALGORITHMS)}")
        self.algorithm = self.name = algorithm
        self.env = env
        self.env_id = env_id or _spec_id(env)
        table = load_hyperparameters(algorithm, self.env_id)
        table.update(hyperparameters)
        self.n_envs = int(table.pop("n_envs", 1))
        self.default_timesteps = int(table.pop("n_timesteps", 1_000_000))
        self.frame_stack = _frames(table)
        env = _stacked(env, self.frame_stack)
        grid = _grid_values(table)
        self.grid_actions = None if grid is None else grid_actions(grid, env.action_space)
        self.factored = _factored_dims(table, grid)
        env = _behind_grid(env, self.grid_actions, self.factored)
        table.pop("frame_stack", None)
        table.pop("action_grid", None)
        table.pop("factored_actions", None)
        for key in SHAPING_KEYS:  # the training run applies them to the env
            table.pop(key, None)
        self.hyperparameters = table
        policy = table.get("policy", "MlpPolicy")
        arguments = {k: v for k, v in _build(table, env.action_space).items() if k != "policy"}
        # SB3's "auto" takes a GPU where there is one, where its PPO warns that an MLP
        # policy runs poorly, and a seed's run differs from the CPU's; load() uses the CPU.
        arguments.setdefault("device", "cpu")
        self.model = ALGORITHMS[algorithm](policy, env, seed=seed, verbose=verbose,
                                           tensorboard_log=tensorboard_log, **arguments)

    @classmethod
    def from_model(cls, model: BaseAlgorithm, algorithm: str, env_id: str,
                   frame_stack: int = 1, grid_actions: np.ndarray | None = None,
                   factored: tuple[int, ...] | None = None) -> SB3Agent:
        agent = cls.__new__(cls)
        agent.algorithm, agent.model, agent.env, agent.env_id = (algorithm, model,
                                                                 model.get_env(), env_id)
        agent.name = algorithm
        agent.n_envs = model.n_envs
        agent.default_timesteps = 0
        agent.hyperparameters = {}
        agent.frame_stack = frame_stack
        agent.grid_actions = grid_actions
        agent.factored = factored
        return agent

    def predict(self, observation: np.ndarray, state: Any = None,
                episode_start: np.ndarray | None = None,
                deterministic: bool = False) -> tuple[Any, Any]:
        """SB3's ``predict``. With ``frame_stack`` k > 1 on one env's observations, the
        ``state`` is the stack of its last k observations, as ``VecFrameStack`` builds
        it in training: zeros at an episode's start (``state`` None or
        ``episode_start``), the latest observation last. With an ``action_grid`` the
        action is the grid's continuous action, not the policy's index."""
        action, state = self._predict(observation, state, episode_start, deterministic)
        if self.grid_actions is not None:
            action = grid_action(self.grid_actions, action, self.factored)
        return action, state

    def _predict(self, observation: np.ndarray, state: Any,
                 episode_start: np.ndarray | None, deterministic: bool) -> tuple[Any, Any]:
        if self.frame_stack == 1:
            return self.model.predict(observation, state=state, episode_start=episode_start,
                                      deterministic=deterministic)
        observation = np.asarray(observation, dtype=np.float32)
        if observation.ndim != 1:
            raise ValueError(f"frame_stack needs one env's flat observation, got shape "
                             f"{observation.shape}")
        starting = state is None or (episode_start is not None and bool(np.any(episode_start)))
        stack = (np.zeros(observation.size * self.frame_stack, np.float32) if starting
                 else np.roll(state, -observation.size))
        stack[-observation.size:] = observation
        action, _ = self.model.predict(stack, deterministic=deterministic)
        return action, stack

    def learn(self, total_timesteps: int | None = None, *, total_episodes: int | None = None,
              callback: BaseCallback | list[BaseCallback] | None = None,
              reset_num_timesteps: bool = True, progress_bar: bool = False) -> SB3Agent:
        """Train for ``total_timesteps`` env steps (all envs together) or
        ``total_episodes`` episodes, whichever ends first; with neither, the table's
        ``n_timesteps``. SB3 callbacks returning False stop training."""
        for name, value in (("total_timesteps", total_timesteps),
                            ("total_episodes", total_episodes)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        callbacks = [] if callback is None else (
            list(callback) if isinstance(callback, list) else [callback])
        if total_episodes is not None:
            callbacks.append(EpisodeBudget(total_episodes))
            if total_timesteps is None:
                total_timesteps = 10**12
        if total_timesteps is None:
            total_timesteps = self.default_timesteps
        model = self.model
        quiet = model.tensorboard_log is None and model.verbose == 0
        if quiet and not getattr(model, "_custom_logger", False):
            # SB3 would make an empty temp folder (tempdir/SB3-<time>) at every learn()
            model.set_logger(Logger(folder=None, output_formats=[]))
        self.model.learn(total_timesteps, callback=CallbackList(callbacks),
                         reset_num_timesteps=reset_num_timesteps, progress_bar=progress_bar)
        return self

    def explore_as_learned(self) -> None:
        """Train on from a learned model as it ended learning: SB3 would restart DQN's
        epsilon at ``exploration_initial_eps`` and act at random for an off-policy
        learner's first ``learning_starts`` steps, throwing the learned policy away while
        it collects data (relearning then measures a fresh start, not a relearn)."""
        from stable_baselines3.common.utils import ConstantSchedule

        model = self.model
        if hasattr(model, "exploration_schedule"):  # kept in saves: SB3 rebuilds it on load
            model.exploration_initial_eps = model.exploration_final_eps
            model.exploration_schedule = ConstantSchedule(model.exploration_final_eps)
            model.exploration_rate = model.exploration_final_eps
        if hasattr(model, "learning_starts"):
            model.learning_starts = 0

    def save(self, path: str | Path) -> None:
        """Write the SB3 zip and a ``.json`` beside it naming the algorithm and env."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model.save(path)
        _meta_path(path).write_text(json.dumps(
            {"agent": self.algorithm, "env_id": self.env_id, "frame_stack": self.frame_stack,
             "grid_actions": (None if self.grid_actions is None
                             else self.grid_actions.tolist()),
             "factored_actions": None if self.factored is None else list(self.factored),
             "hyperparameters": _plain(self.hyperparameters)}, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path, env: gym.Env | VecEnv | None = None) -> SB3Agent:
        path = Path(path)
        meta = json.loads(_meta_path(path).read_text(encoding="utf-8"))
        frames = int(meta.get("frame_stack", 1))
        actions = meta.get("grid_actions")
        actions = None if actions is None else np.asarray(actions, dtype=np.float32)
        factored = meta.get("factored_actions")
        factored = None if factored is None else tuple(int(n) for n in factored)
        if env is not None:
            env = _behind_grid(_stacked(env, frames), actions, factored)
        model = ALGORITHMS[meta["agent"]].load(path, env=env, device="cpu")
        return cls.from_model(model, meta["agent"], meta["env_id"], frames, actions, factored)


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".zip") + ".json")


def _spec_id(env: gym.Env | VecEnv) -> str:
    if isinstance(env, VecEnv):
        specs = env.get_attr("spec")
        return specs[0].id if specs and specs[0] is not None else ""
    return env.spec.id if env.spec is not None else ""


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))
