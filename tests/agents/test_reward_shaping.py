import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

import envs  # noqa: F401
from agents.records import EpisodeLog, read_log
from agents.reward_shaping import StepPenalty, shape_rewards
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


def test_normalized_rewards_reach_the_learner_only(tmp_path):
    log = EpisodeLog(tmp_path, "LunarLanding-v0")
    inner = EpisodeLogVecEnv(DummyVecEnv([lambda: gym.make("LunarLanding-v0")]), log,
                             "ppo", 10_000)
    shaped = shape_rewards(inner, {"normalize_reward": True, "gamma": 0.99})
    assert isinstance(shaped, VecNormalize) and not shaped.norm_obs
    inner.seed(3)
    raw_observation = inner.reset()
    shaped.seed(3)
    assert np.array_equal(shaped.reset(), raw_observation)  # observations untouched
    paid = []
    while not read_log(log.path):
        _, reward, _, _ = shaped.step(np.array([0]))
        paid.append(float(reward[0]))
    logged = float(read_log(log.path)[0]["r"])
    assert sum(paid) != pytest.approx(logged)  # the learner saw scaled rewards ...
    assert shaped.get_original_reward() is not None  # ... and the log the env's own
    log.close()
