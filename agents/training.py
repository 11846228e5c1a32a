"""Train any agent on a registered env and keep the complete record of the run.

One output folder per run holds:

- ``run.json``: what was asked (agent, env, context, budget, seeds, hyperparameters);
- ``monitor.csv``: one row per training episode, written as it ends;
- ``evaluations.npz``: SB3 EvalCallback's format (``timesteps``, ``results``,
  ``ep_lengths``, ``successes``) plus ``episodes``, from deterministic evaluations on
  held-out seeds;
- ``checkpoints/``: the agent every ``checkpoint_every`` steps and when interrupted;
- ``tensorboard/``: training curves; ``model.zip`` (or ``model.pkl``): the final agent;
- ``criterion_model.zip`` (or ``.pkl``): the agent when it first met the criterion;
- ``agent.json``: written when the run finishes; for an agent without ``save`` that does
  not learn (no model file), its constructor arguments, to build it afresh at load;
- ``summary.json``: the outcome, rewritten atomically as the run goes;
- ``run.log``: messages and any traceback of the agent's own code.

An interrupted run (Ctrl-C, kill) keeps every finished episode and the last
checkpoint; ``resume=True`` continues from them.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
import signal
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecMonitor

from exgen.agents.base import OnlineAgent, can_save, learning_hooks, unsaved_learning
from exgen.agents.batched_vec_env import BatchedVecEnv, check_batched, make_batched_vec_env
from exgen.agents.episodes import run_episodes
from exgen.agents.public_view import PublicVecEnv, as_public
from exgen.agents.records import EpisodeLog, EpisodeRecord, write_json_atomically
from exgen.agents.registry import make_agent, resolve
from exgen.agents.reward_shaping import env_wrapper, normalize_rewards, shape_rewards
from exgen.agents.sb3 import ALGORITHMS, SB3Agent, load_hyperparameters
from exgen.agents.seeds import HELD_OUT_SEED_MIN, TUNING_SEEDS, draw_held_out_seed
from exgen.envs.mixture import env_arguments, make_env

#: A deterministic evaluation of this many episodes ...
CRITERION_EPISODES = 20
#: ... reaching this success rate meets the criterion.
CRITERION_SUCCESS = 0.9
#: The file stem of the agent saved when it first met the criterion, in its run folder.
CRITERION_MODEL = "criterion_model"
#: ``RunSpec.vec_env`` names and the SB3 class each picks.
VEC_ENVS = {"dummy": DummyVecEnv, "subproc": SubprocVecEnv, "batched": BatchedVecEnv}


def default_vec_env(agent: str, env_id: str, env_kwargs: dict[str, Any]) -> str:
    """How an agent's training envs run unless told: ``"batched"`` for an SB3 agent on
    one context of an env with a batched world (faster, the same episodes), else
    ``"dummy"``."""
    if agent not in ALGORITHMS:
        return "dummy"
    try:
        check_batched(env_id, env_kwargs)
    except ValueError:
        return "dummy"
    return "batched"


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines a training run."""

    agent: str
    env_id: str
    out: Path
    seed: int
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    total_timesteps: int | None = None
    total_episodes: int | None = None
    n_envs: int | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    eval_env_kwargs: dict[str, Any] | None = None
    eval_every_steps: int = 20_000
    eval_episodes: int = CRITERION_EPISODES
    eval_seed: int | None = None
    checkpoint_every_steps: int = 50_000
    stop_at_criterion: bool = False
    torch_threads: int = 1
    #: How the training envs run: ``"dummy"`` (one process, SB3's ``DummyVecEnv``),
    #: ``"subproc"`` (one process per env, ``SubprocVecEnv``, for a machine with cores
    #: to spare) or ``"batched"`` (``CityDriving-v0`` only: every city in one batched
    #: world, :class:`~exgen.agents.batched_vec_env.BatchedVecEnv`); the same episodes,
    #: bit for bit.
    vec_env: str = "dummy"
    #: Start from this saved agent (relearning: an SB3 zip, or an online agent's pickle)
    #: instead of a new one.
    initial_model: str | None = None
    #: Evaluate on the tuning seeds (``seeds.TUNING_SEEDS``, from their start) instead
    #: of fresh held-out ones: for hyperparameter search, never for a reported result.
    tuning: bool = False

    def validate(self) -> None:
        for name in ("total_timesteps", "total_episodes", "n_envs"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        for name in ("eval_every_steps", "eval_episodes", "checkpoint_every_steps",
                     "torch_threads"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.seed < HELD_OUT_SEED_MIN:
            raise ValueError(f"training seed must be in 0..{HELD_OUT_SEED_MIN - 1} (seeds of "
                             f"{HELD_OUT_SEED_MIN:,} and above are held out), got {self.seed}")
        if self.vec_env not in VEC_ENVS:
            raise ValueError(f"vec_env must be one of {', '.join(VEC_ENVS)}, "
                             f"got {self.vec_env!r}")
        if self.vec_env == "batched":
            check_batched(self.env_id, self.env_kwargs)
            if self.agent not in ALGORITHMS:
                raise ValueError(f"vec_env 'batched' trains SB3 agents "
                                 f"({', '.join(ALGORITHMS)}), not {self.agent!r}")
        if self.tuning and self.eval_seed is not None:
            raise ValueError("tuning evaluates on the tuning seeds; it takes no eval_seed")
        if self.tuning and self.seed >= TUNING_SEEDS.start:
            raise ValueError(f"a tuning run's training seed must be below "
                             f"{TUNING_SEEDS.start:,} (its evaluation seeds), got {self.seed}")
        if self.eval_seed is not None and self.eval_seed < HELD_OUT_SEED_MIN:
            raise ValueError(f"eval_seed must be >= {HELD_OUT_SEED_MIN:,} (held out), "
                             f"got {self.eval_seed}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        return data


def train(spec: RunSpec, *, resume: bool = False, progress: bool = False) -> dict[str, Any]:
    """Run ``spec``; return the summary also written to ``summary.json``."""
    spec.validate()
    resolve(spec.agent)  # fail on a bad name before anything is written
    gym.spec(spec.env_id)  # likewise for an unknown env id
    run = _Run(spec, resume)
    try:
        return run.execute(progress)
    finally:
        run.close()


class _Run:
    """The state of one training run: folder, log, evaluator, agent."""

    def __init__(self, spec: RunSpec, resume: bool) -> None:
        self.spec = spec
        self.out = Path(spec.out)
        self.resumed = resume and (self.out / "run.json").exists()
        if not resume and (self.out / "run.json").exists():
            raise FileExistsError(f"{self.out} already holds a run; pass --resume to continue "
                                  f"it or choose another --out")
        self.out.mkdir(parents=True, exist_ok=True)
        self.logger = _file_logger(self.out / "run.log")
        if self.resumed:
            self._check_same_run()
        else:
            write_json_atomically(self.out / "run.json", spec.to_dict())
        self.eval_seed = spec.eval_seed if spec.eval_seed is not None else (
            self._previous_eval_seed() or (TUNING_SEEDS.start if spec.tuning
                                           else draw_held_out_seed(spec.eval_episodes)))
        self.log = EpisodeLog(self.out, spec.env_id, resume=self.resumed)
        self.started = time.perf_counter()
        self.status = "running"
        self.stop_requested = False
        #: where the criterion was first met (kept on resume), or None
        self.criterion: dict[str, Any] | None = self._previous_criterion()
        self.evaluations = _Evaluations(self.out / "evaluations.npz", resume=self.resumed)
        self.recent_success: deque[bool] = deque(maxlen=100)
        self.log.listeners.append(lambda record: self.recent_success.append(record.is_success))
        from torch.utils.tensorboard import SummaryWriter

        self.board = SummaryWriter(str(self.out / "tensorboard" / "episodes"))
        self.log.listeners.append(self._board_episode)
        self.logger.info("%s run: %s", "resumed" if self.resumed else "new",
                         json.dumps(spec.to_dict()))
        self.logger.info("%s evaluation seeds %d..%d",
                         "tuning" if spec.tuning else "held-out", self.eval_seed,
                         self.eval_seed + spec.eval_episodes - 1)

    # ---------------------------------------------------------------- running
    def execute(self, progress: bool) -> dict[str, Any]:
        import torch

        torch.set_num_threads(self.spec.torch_threads)
        bar = _ProgressBar(self, progress)
        previous_handlers = self._catch_stop_signals()
        try:
            if self.spec.agent in ALGORITHMS:
                self._train_sb3()
            else:
                self._train_online()
            if self.stop_requested:
                raise KeyboardInterrupt
            self.status = "finished"
        except KeyboardInterrupt:
            self.status = "interrupted"
            self.logger.warning("interrupted after %d episodes", self.log.episodes)
            self._checkpoint()
            raise
        except Exception:
            self.status = "failed"
            self.logger.exception("training failed")
            raise
        finally:
            for signum, handler in previous_handlers.items():
                signal.signal(signum, handler)
            bar.close()
            self._write_summary()
        return self._summary()

    def _catch_stop_signals(self) -> dict[int, Any]:
        """Turn Ctrl-C and ``kill`` (SIGINT, SIGTERM) into a stop request checked between
        steps and episodes; return the handlers they replaced.

        A KeyboardInterrupt raised inside a physics engine's callback can be swallowed
        there; a flag cannot. A second signal interrupts at once.
        """
        self.stop_requested = False

        def request_stop(signum: int, frame: Any) -> None:
            if self.stop_requested:
                raise KeyboardInterrupt
            self.stop_requested = True

        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[signum] = signal.signal(signum, request_stop)
            except ValueError:  # not the main thread: leave the signals alone
                break
        return previous

    def _train_sb3(self) -> None:
        spec = self.spec
        table = {**load_hyperparameters(spec.agent, spec.env_id), **spec.hyperparameters}
        vec = training_vec_env(spec, table, self.log, self._env_seed())
        checkpoint = self._latest_checkpoint()
        if checkpoint is not None:
            self.agent = load_agent(spec.agent, checkpoint, env=vec)
            buffer = checkpoint.with_name(checkpoint.stem + "_replay_buffer.pkl")
            if buffer.exists():
                self.agent.model.load_replay_buffer(buffer)
            self.logger.info("resumed from %s", checkpoint)
        elif spec.initial_model is not None:
            self.agent = SB3Agent.load(spec.initial_model, env=vec)
            self.logger.info("relearning from %s", spec.initial_model)
        else:
            hyperparameters = {k: v for k, v in spec.hyperparameters.items() if k != "n_envs"}
            self.agent = make_agent(spec.agent, vec, seed=spec.seed, env_id=spec.env_id,
                                    tensorboard_log=str(self.out / "tensorboard"),
                                    **hyperparameters)
        if spec.initial_model is not None:  # relearning, fresh or resumed
            self.agent.explore_as_learned()
        done_steps = self.agent.model.num_timesteps if checkpoint is not None else 0
        budget = spec.total_timesteps
        if budget is None and spec.total_episodes is None:
            budget = self.agent.default_timesteps
        remaining_steps = None if budget is None else max(budget - done_steps, 1)
        remaining_episodes = (None if spec.total_episodes is None
                              else max(spec.total_episodes - self.log.episodes, 1))
        self.eval_env = make_env(spec.env_id, **self._eval_kwargs())
        if not self._evaluate_initial_model():
            return
        self.agent.learn(remaining_steps, total_episodes=remaining_episodes,
                         callback=_SB3Hooks(self), reset_num_timesteps=checkpoint is None)

    def _train_online(self) -> None:
        spec = self.spec
        env = make_env(spec.env_id, **spec.env_kwargs)
        view = as_public(env)  # the agent's; run_episodes records from env itself
        checkpoint = self._latest_checkpoint()
        if checkpoint is not None:
            self.agent = load_agent(spec.agent, checkpoint, env=view)
            self.logger.info("resumed from %s", checkpoint)
        elif spec.initial_model is not None:
            self.agent = load_agent(spec.agent, spec.initial_model, env=view)
            self.logger.info("relearning from %s", spec.initial_model)
        else:
            self.agent = make_agent(spec.agent, view, seed=spec.seed, **spec.hyperparameters)
        problem = unsaved_learning(self.agent, spec.agent)
        if problem is not None:
            self.logger.warning("%s", problem)
        self.eval_env = make_env(spec.env_id, **self._eval_kwargs())
        if not self._evaluate_initial_model():
            return
        next_eval = _next_multiple(self.log.total_steps, spec.eval_every_steps)
        next_checkpoint = _next_multiple(self.log.total_steps, spec.checkpoint_every_steps)

        def after_episode(record: EpisodeRecord) -> bool:
            nonlocal next_eval, next_checkpoint
            if self.stop_requested:
                return False
            keep_going = True
            if record.total_steps >= next_eval:
                next_eval = _next_multiple(record.total_steps, spec.eval_every_steps)
                keep_going = self.evaluate(record.total_steps)
            if record.total_steps >= next_checkpoint:
                next_checkpoint = _next_multiple(record.total_steps,
                                                 spec.checkpoint_every_steps)
                self._checkpoint()
            return keep_going

        steps = None if spec.total_timesteps is None else max(
            spec.total_timesteps - self.log.total_steps, 1)
        episodes = None if spec.total_episodes is None else max(
            spec.total_episodes - self.log.episodes, 0)
        if steps is None and episodes is None:
            raise ValueError("an online agent needs a budget: total_timesteps or "
                             "total_episodes")
        run_episodes(self.agent, env, episodes, max_steps=steps,
                     seed=self._env_seed(), learn=True, callback=after_episode,
                     log=self.log, agent_name=spec.agent)
        # A last evaluation, unless the last episode's was at this very step count.
        if not self.stop_requested and self.evaluations.timesteps[-1:] != [self.log.total_steps]:
            self.evaluate(self.log.total_steps)

    def _evaluate_initial_model(self) -> bool:
        """Relearning: evaluate the model it starts from before any learning, so that one
        that meets the criterion in the new context as it is costs no episodes; False
        stops the run there (the criterion met where the run stops at it)."""
        if self.spec.initial_model is None or self.evaluations.timesteps:
            return True
        return self.evaluate(0)

    def evaluate(self, timesteps: int) -> bool:
        """A deterministic evaluation on the held-out seeds; False stops training."""
        seeds = range(self.eval_seed, self.eval_seed + self.spec.eval_episodes)
        records = evaluation_records(self.agent, self.spec.env_id, self._eval_kwargs(),
                                     list(seeds), self.eval_env, self.spec.agent)
        success = self.evaluations.add(timesteps, self.log.episodes, records)
        self.board.add_scalar("eval/success_rate", success, timesteps)
        self.logger.info("eval at %d steps, %d episodes: success %.2f, mean return %.1f",
                         timesteps, self.log.episodes, success,
                         np.mean([r.episode_return for r in records]))
        if self.criterion is None and success >= CRITERION_SUCCESS:
            self.criterion = {"episodes": self.log.episodes, "timesteps": timesteps,
                              "evaluation_episodes": self.evaluations.episodes_run,
                              "success": success}
            self.logger.info("criterion met: %s", self.criterion)
            if can_save(self.agent):  # the snapshot at the criterion (protocol v2)
                _save_atomically(self.agent, self.out, CRITERION_MODEL)
        self._write_summary()
        return not (self.spec.stop_at_criterion and self.criterion is not None)

    # ------------------------------------------------------------ bookkeeping
    def _board_episode(self, record: EpisodeRecord) -> None:
        self.board.add_scalar("episode/return", record.episode_return, record.total_steps)
        self.board.add_scalar("episode/length", record.length, record.total_steps)
        self.board.add_scalar("episode/success", float(record.is_success), record.total_steps)

    def _env_seed(self) -> int:
        """The first reset's seed; a resumed run continues on a new, derived stream."""
        return self.spec.seed + self.log.episodes if self.resumed else self.spec.seed

    def _eval_kwargs(self) -> dict[str, Any]:
        return dict(self.spec.env_kwargs if self.spec.eval_env_kwargs is None
                    else self.spec.eval_env_kwargs)

    def _checkpoint(self) -> Path | None:
        agent = getattr(self, "agent", None)
        if agent is None:
            return None
        if not can_save(agent):  # an agent without save() leaves no checkpoint
            self.logger.info("no checkpoint: agent %s has no save()", self.spec.agent)
            return None
        folder = self.out / "checkpoints"
        folder.mkdir(exist_ok=True)
        steps = (agent.model.num_timesteps if isinstance(agent, SB3Agent)
                 else self.log.total_steps)
        path = _save_atomically(agent, folder, f"step_{steps:012d}", with_replay=True)
        self.logger.info("checkpoint %s", path)
        self._write_summary()
        return path

    def _latest_checkpoint(self) -> Path | None:
        if not self.resumed:
            return None
        candidates = sorted((self.out / "checkpoints").glob("step_*[0-9].zip")) + sorted(
            (self.out / "checkpoints").glob("step_*[0-9].pkl"))
        return max(candidates, key=lambda p: int(re.findall(r"\d+", p.stem)[0]),
                   default=None)

    def _previous_criterion(self) -> dict[str, Any] | None:
        """Where a resumed run first met the criterion before it stopped, if it did."""
        summary = self.out / "summary.json"
        if self.resumed and summary.exists():
            return (json.loads(summary.read_text(encoding="utf-8")).get("criterion")
                    or {}).get("met")
        return None

    def _previous_eval_seed(self) -> int | None:
        summary = self.out / "summary.json"
        if self.resumed and summary.exists():
            return json.loads(summary.read_text(encoding="utf-8")).get("eval_seed")
        return None

    def _check_same_run(self) -> None:
        before = json.loads((self.out / "run.json").read_text(encoding="utf-8"))
        now = self.spec.to_dict()
        changed = [key for key in ("agent", "env_id", "env_kwargs", "seed", "hyperparameters")
                   if before.get(key) != json.loads(json.dumps(now[key]))]
        if changed:
            raise ValueError(f"--resume must continue the same run; these differ from "
                             f"{self.out / 'run.json'}: {', '.join(changed)}")

    def _summary(self) -> dict[str, Any]:
        return {
            "status": self.status, "agent": self.spec.agent, "env_id": self.spec.env_id,
            "env_kwargs": self.spec.env_kwargs, "seed": self.spec.seed,
            "eval_seed": self.eval_seed, "tuning": self.spec.tuning,
            "episodes": self.log.episodes,
            "total_steps": self.log.total_steps, "wall_time_s": round(self.log.elapsed(), 3),
            "outcomes": self.log.outcomes,
            "criterion": {"episodes": CRITERION_EPISODES, "success": CRITERION_SUCCESS,
                          "met": self.criterion},
            "episodes_to_criterion": (self.criterion["episodes"] if self.criterion
                                      else f">{self.log.episodes}"),
            "evaluation_episodes": self.evaluations.episodes_run,
            "last_evaluation": self.evaluations.last(),
            "recent_success_rate": (float(np.mean(self.recent_success))
                                    if self.recent_success else None),
        }

    def _write_summary(self) -> None:
        write_json_atomically(self.out / "summary.json", self._summary())

    def close(self) -> None:
        agent = getattr(self, "agent", None)
        if agent is not None and self.status == "finished":
            if can_save(agent):
                _save_atomically(agent, self.out, "model")
            _write_agent_meta(self.out / "agent.json", self.spec, agent)
        envs = getattr(getattr(agent, "model", None), "env", None)
        if envs is not None:  # subprocess envs end here, not at exit
            envs.close()
        self.log.close()
        self.board.close()
        for handler in list(self.logger.handlers):
            handler.close()
            self.logger.removeHandler(handler)


class _Evaluations:
    """Evaluation history in SB3 EvalCallback's ``evaluations.npz`` layout."""

    def __init__(self, path: Path, resume: bool) -> None:
        self.path = path
        self.timesteps: list[int] = []
        self.episodes: list[int] = []
        self.results: list[list[float]] = []
        self.lengths: list[list[int]] = []
        self.successes: list[list[bool]] = []
        if resume and path.exists():
            with np.load(path) as data:
                self.timesteps = data["timesteps"].tolist()
                self.episodes = data["episodes"].tolist()
                self.results = data["results"].tolist()
                self.lengths = data["ep_lengths"].tolist()
                self.successes = data["successes"].tolist()

    @property
    def episodes_run(self) -> int:
        return sum(len(r) for r in self.results)

    def add(self, timesteps: int, episodes: int, records: list[EpisodeRecord]) -> float:
        self.timesteps.append(timesteps)
        self.episodes.append(episodes)
        self.results.append([r.episode_return for r in records])
        self.lengths.append([r.length for r in records])
        self.successes.append([r.is_success for r in records])
        temporary = self.path.with_name(self.path.stem + ".tmp.npz")
        np.savez(temporary, timesteps=self.timesteps, episodes=self.episodes,
                 results=self.results, ep_lengths=self.lengths, successes=self.successes)
        temporary.replace(self.path)
        return float(np.mean(self.successes[-1]))

    def last(self) -> dict[str, Any] | None:
        if not self.timesteps:
            return None
        return {"timesteps": self.timesteps[-1], "episodes": self.episodes[-1],
                "success": float(np.mean(self.successes[-1])),
                "successes": [bool(s) for s in self.successes[-1]],
                "mean_return": float(np.mean(self.results[-1]))}


def evaluation_records(agent: Any, env_id: str, kwargs: dict[str, Any], seeds: list[int],
                       env: gym.Env, agent_name: str) -> list[EpisodeRecord]:
    """One deterministic episode per seed in the context ``kwargs``, without learning:
    all at once where the agent plays batched (an SB3 agent with discrete actions, in a
    context that is not a mixture: the same records), else one after the other on
    ``env``."""
    from exgen.agents.batched_episodes import play_batched, plays_batched

    if "contexts" in kwargs or not plays_batched(agent):
        return run_episodes(agent, env, seed=seeds, deterministic=True, learn=False,
                            agent_name=agent_name)
    played = play_batched(agent, env_id, [kwargs] * len(seeds), seeds, 1,
                          agent_name=agent_name)
    return [trials[0] for trials in played]


class _SB3Hooks(BaseCallback):
    """Evaluations, checkpoints and the criterion stop inside ``model.learn``."""

    def __init__(self, run: _Run) -> None:
        super().__init__()
        self.run = run
        self.next_eval = 0
        self.next_checkpoint = 0

    def _on_training_start(self) -> None:
        spec = self.run.spec
        self.next_eval = _next_multiple(self.num_timesteps, spec.eval_every_steps)
        self.next_checkpoint = _next_multiple(self.num_timesteps, spec.checkpoint_every_steps)

    def _on_step(self) -> bool:
        if self.run.stop_requested:
            return False
        spec = self.run.spec
        keep_going = True
        if self.num_timesteps >= self.next_eval:
            self.next_eval = _next_multiple(self.num_timesteps, spec.eval_every_steps)
            keep_going = self.run.evaluate(self.num_timesteps)
            last = self.run.evaluations.last()
            self.logger.record("eval/success_rate", last["success"])
            self.logger.record("eval/mean_return", last["mean_return"])
        if self.num_timesteps >= self.next_checkpoint:
            self.next_checkpoint = _next_multiple(self.num_timesteps,
                                                  spec.checkpoint_every_steps)
            self.run._checkpoint()
        return keep_going

    def _on_training_end(self) -> None:
        if self.run.stop_requested:
            return
        if not self.run.evaluations.timesteps or (
                self.run.evaluations.timesteps[-1] != self.num_timesteps):
            self.run.evaluate(self.num_timesteps)


class _ProgressBar:
    """A tqdm bar over the budget: episodes, steps per second, recent success."""

    def __init__(self, run: _Run, enabled: bool) -> None:
        self.bar = None
        if not enabled:
            return
        from tqdm import tqdm

        spec = run.spec
        by_steps = spec.total_timesteps is not None or spec.total_episodes is None
        total = spec.total_timesteps if by_steps else spec.total_episodes
        self.by_steps = by_steps
        self.bar = tqdm(total=total, unit="step" if by_steps else "ep", dynamic_ncols=True,
                        initial=run.log.total_steps if by_steps else run.log.episodes)
        self.run = run
        self.started = time.perf_counter()
        self.start_steps = run.log.total_steps
        run.log.listeners.append(self.update)

    def update(self, record: EpisodeRecord) -> None:
        position = record.total_steps if self.by_steps else record.episode + 1
        self.bar.update(position - self.bar.n)
        rate = (record.total_steps - self.start_steps) / max(
            time.perf_counter() - self.started, 1e-9)
        success = np.mean(self.run.recent_success) if self.run.recent_success else 0.0
        self.bar.set_postfix(episodes=record.episode + 1, steps_per_s=f"{rate:,.0f}",
                             success=f"{success:.0%}", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def training_vec_env(spec: RunSpec, table: dict[str, Any], log: EpisodeLog,
                     seed: int) -> VecEnv:
    """The ``VecEnv`` an SB3 agent of run ``spec`` learns on, as ``spec.vec_env`` builds
    it with the hyperparameter ``table``: the envs (or the batched world), give-up and
    episode statistics, the episode log (to ``log``), the learner's reward shaping, and
    the agent's public view around them; ``seed`` seeds env ``i`` with ``seed + i``."""
    from stable_baselines3.common.env_util import make_vec_env

    from exgen.agents.vec_log import EpisodeLogVecEnv

    n_envs = spec.n_envs or table.get("n_envs", 1)
    if spec.vec_env == "batched":
        # Give-up inside the batch, statistics (SB3's VecMonitor) outside the log: the
        # log reads the batch's reset infos, which a wrapper between them would hide.
        vec = make_batched_vec_env(spec.env_id, n_envs, seed=seed, env_kwargs=spec.env_kwargs,
                                   table=table)
        vec = VecMonitor(EpisodeLogVecEnv(vec, log, spec.agent, spec.seed))
    else:
        env_id, env_kwargs = env_arguments(spec.env_id, spec.env_kwargs)
        # Inside SB3's Monitor and the episode log: both see a given-up episode.
        wrap = env_wrapper(table, spec.env_id)
        # A function of this module, not the id: a subprocess env imports the module,
        # and with it the package that registers the ids.
        make = functools.partial(_wrapped_env, env_id, wrap,
                                 in_subprocess=spec.vec_env != "dummy")
        vec = make_vec_env(make, n_envs=n_envs, seed=seed, env_kwargs=env_kwargs,
                           vec_env_cls=VEC_ENVS[spec.vec_env])
        vec = EpisodeLogVecEnv(vec, log, spec.agent, spec.seed)
    # Outside the log, the learner's only; inside the view, as they read private info.
    vec = shape_rewards(vec, table, spec.env_id, normalize=False)
    vec = PublicVecEnv(vec)  # all the agent sees; the log and shaping sit inside it
    # Rewards only, outside the view, where SB3's off-policy learners look for it.
    return normalize_rewards(vec, table)


def _save_atomically(agent: Any, folder: Path, stem: str, with_replay: bool = False) -> Path:
    """Save ``agent`` as ``folder/stem.zip`` (or ``.pkl``) so that a kill at any moment
    leaves the previous files or the complete new ones, never a torn model file.

    Everything is written to a staging folder first and moved in with the model file
    last, since readers look for the model file.
    """
    staging = folder / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    model = staging / f"{stem}{_suffix(agent)}"
    agent.save(model)
    replay = getattr(getattr(agent, "model", None), "save_replay_buffer", None)
    if with_replay and replay is not None and agent.model.replay_buffer is not None:
        replay(staging / f"{stem}_replay_buffer.pkl")
    for item in sorted(staging.iterdir(), key=lambda p: p == model):
        os.replace(item, folder / item.name)
    staging.rmdir()
    return folder / model.name


def _wrapped_env(env_id: str, wrap: Any, in_subprocess: bool = False,
                 **kwargs: Any) -> gym.Env:
    """``env_id`` made with ``kwargs``, in ``wrap`` if any. In an env's own process,
    Ctrl-C and SIGTERM are left to the training process, which reaches the envs'
    processes to save its checkpoint before it closes them (they end with it)."""
    if in_subprocess:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
    env = gym.make(env_id, **kwargs)
    return env if wrap is None else wrap(env)


def _next_multiple(value: int, every: int) -> int:
    return (value // every + 1) * every


def _suffix(agent: Any) -> str:
    return ".zip" if isinstance(agent, SB3Agent) else ".pkl"


def _write_agent_meta(path: Path, spec: RunSpec, agent: Any) -> None:
    """``agent.json``: the agent's name and env; for an agent without ``save``,
    ``"saved": false`` and, if it does not learn, the keyword arguments it was made
    with (``constructor``), so that loading builds it afresh."""
    meta: dict[str, Any] = {"agent": spec.agent, "env_id": spec.env_id,
                            "env_kwargs": spec.env_kwargs}
    if not can_save(agent):
        meta["saved"] = False
        if not learning_hooks(agent):
            meta["constructor"] = {"seed": spec.seed, **spec.hyperparameters}
    write_json_atomically(path, meta)


def _file_logger(path: Path) -> logging.Logger:
    logger = logging.getLogger(f"exgen.run.{path.parent.resolve()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


def final_model(folder: str | Path) -> Path | None:
    """The model run ``folder`` saved when it finished (``model.zip`` or ``model.pkl``),
    or None (not finished, or an agent without ``save``)."""
    return _saved_model(folder, "model")


def criterion_model(folder: str | Path) -> Path | None:
    """The model run ``folder`` saved when it first met the criterion, or None (never
    met, or an agent without ``save``)."""
    return _saved_model(folder, CRITERION_MODEL)


def _saved_model(folder: str | Path, stem: str) -> Path | None:
    """``folder/stem.zip`` (an SB3 agent) or ``.pkl`` (an online agent), whichever exists."""
    return next((p for p in (Path(folder) / f"{stem}{suffix}" for suffix in (".zip", ".pkl"))
                 if p.exists()), None)


def load_trained_agent(folder_or_model: str | Path, env: gym.Env | None = None) -> Any:
    """``(agent, run metadata)`` saved by a training run: its folder, or a model or
    checkpoint file inside it. A finished run that saved no model (its agent has no
    ``save`` and does not learn) gives the agent made afresh on ``env``. A plain
    ``env`` is put behind a :class:`~exgen.agents.public_view.PublicView` first."""
    path = Path(folder_or_model)
    env = as_public(env)
    meta = run_metadata(path)
    if not path.is_dir():
        return load_agent(meta["agent"], path, env=env), meta
    model = final_model(path)
    if model is None and meta.get("saved") is False:
        return rebuild_agent(meta, path, env), meta
    if model is None:
        raise FileNotFoundError(f"{path} has no model.zip or model.pkl (did the run "
                                f"finish? checkpoints are in {path / 'checkpoints'})")
    return load_agent(meta["agent"], model, env=env), meta


def run_metadata(folder_or_model: str | Path) -> dict[str, Any]:
    """What a training run recorded about its agent and env: a finished run folder's
    ``agent.json``, or the ``run.json`` of the run a model or checkpoint file is in."""
    path = Path(folder_or_model)
    if not path.is_dir():
        run = path.parent.parent if path.parent.name == "checkpoints" else path.parent
        return json.loads((run / "run.json").read_text(encoding="utf-8"))
    if not (path / "agent.json").exists():
        checkpoints = sorted(p for p in (path / "checkpoints").glob("step_*")
                             if p.suffix in (".zip", ".pkl"))
        hint = (f"; its last checkpoint is {checkpoints[-1]}" if checkpoints
                else "; it has no checkpoint either")
        raise FileNotFoundError(f"{path} holds no finished agent (agent.json): the run "
                                f"was stopped before it ended{hint}")
    return json.loads((path / "agent.json").read_text(encoding="utf-8"))


def rebuild_agent(meta: dict[str, Any], folder: Path, env: gym.Env | None = None) -> Any:
    """The agent of run ``folder``, which saved no model: made afresh from its import
    path and the constructor arguments in ``meta`` (``agent.json``), on ``env`` or, when
    None, on a new env of the run's context. Refused for an agent that learns."""
    if "constructor" not in meta:
        raise FileNotFoundError(
            f"{folder} kept no model: agent {meta['agent']!r} learns but has no "
            f"save(path), so what it learned was lost; give it save(path) and load(path, "
            f"env=None) and train again")
    if env is None:
        env = make_env(meta["env_id"], **meta.get("env_kwargs", {}))
    return make_agent(meta["agent"], as_public(env), **meta["constructor"])


def load_agent(name: str, path: str | Path, env: Any = None) -> Any:
    """An agent saved under registry ``name``: an SB3 zip, through the class's own
    ``load``, or a pickled :class:`OnlineAgent` (the planner's name resolves to a
    function, so it takes the last way)."""
    if name in ALGORITHMS:
        return SB3Agent.load(path, env=env)
    loader = getattr(resolve(name), "load", None) or OnlineAgent.load
    return loader(path, env=env)

