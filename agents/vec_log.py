"""Episode records from inside an SB3 ``VecEnv``, so parallel training is logged fully."""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from exgen.agents.records import (
    EpisodeLog,
    EpisodeRecord,
    driving_score_of,
    infractions_of,
    outcome_of,
)


class EpisodeLogVecEnv(VecEnvWrapper):
    """Writes an :class:`EpisodeRecord` to ``log`` for every episode any sub-env ends.

    Counts episodes and env steps across all sub-envs, in the order they end, and
    takes each episode's context from its reset info. It reads the private info
    (``records.RECORDED_INFO``), so a training run puts it inside the agent's
    :class:`~exgen.agents.public_view.PublicVecEnv`.
    """

    def __init__(self, venv: VecEnv, log: EpisodeLog, agent_name: str, seed: int) -> None:
        super().__init__(venv)
        self.log = log
        self.agent_name = agent_name
        self.run_seed = seed
        self.returns = np.zeros(self.num_envs)
        self.lengths = np.zeros(self.num_envs, dtype=np.int64)
        self.contexts: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        self.total_steps = log.total_steps

    def reset(self) -> np.ndarray:
        observations = self.venv.reset()
        self.returns[:] = 0.0
        self.lengths[:] = 0
        self.contexts = [info.get("context", {}) for info in self._reset_infos()]
        return observations

    def step_wait(self) -> Any:
        observations, rewards, dones, infos = self.venv.step_wait()
        # As float32, the dtype DummyVecEnv hands out and SubprocVecEnv does not, so that
        # both record the same returns, bit for bit.
        self.returns += np.asarray(rewards, dtype=np.float32)
        self.lengths += 1
        self.total_steps += self.num_envs
        for index in np.flatnonzero(dones):
            info = infos[index]
            truncated = bool(info.get("TimeLimit.truncated", False))
            self.log.write(EpisodeRecord(
                episode=self.log.episodes, total_steps=self.total_steps,
                episode_return=float(self.returns[index]), length=int(self.lengths[index]),
                is_success=bool(info.get("is_success", False)),
                outcome=outcome_of(info, terminated=not truncated),
                wall_time=self.log.elapsed(), agent=self.agent_name, seed=self.run_seed,
                context=self.contexts[index], infractions=infractions_of(info),
                driving_score=driving_score_of(info)))
            self.returns[index] = 0.0
            self.lengths[index] = 0
            self.contexts[index] = self._reset_infos()[index].get("context", {})
        return observations, rewards, dones, infos

    def _reset_infos(self) -> list[dict[str, Any]]:
        infos = getattr(self.venv, "reset_infos", None)
        return infos if infos is not None else [{} for _ in range(self.num_envs)]
