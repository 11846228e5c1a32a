import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

import envs  # noqa: F401
from agents.records import EpisodeLog, read_log
from agents.reward_shaping import StepPenalty
from agents.vec_log import EpisodeLogVecEnv


def test_the_learner_pays_the_penalty_and_the_log_keeps_the_envs_returns(tmp_path):
    log = EpisodeLog(tmp_path, "LunarLanding-v0")
    inner = EpisodeLogVecEnv(DummyVecEnv([lambda: gym.make("LunarLanding-v0")]), log,
                             "ppo", 10_000)
    shaped = StepPenalty(inner, 0.25)
    shaped.seed(3)
    shaped.reset()
    paid, steps = 0.0, 0
    while not read_log(log.path):
        _, reward, _, _ = shaped.step(np.array([0]))
        paid += float(reward[0])
        steps += 1
    logged = float(read_log(log.path)[0]["r"])
    assert paid == pytest.approx(logged - 0.25 * steps)
    log.close()


@pytest.mark.parametrize("penalty", [-0.1, float("nan")])
def test_a_negative_or_missing_penalty_is_refused(penalty):
    venv = DummyVecEnv([lambda: gym.make("LunarLanding-v0")])
    with pytest.raises(ValueError, match="step_penalty must be a number >= 0"):
        StepPenalty(venv, penalty)
