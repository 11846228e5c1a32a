"""The hand-written pilot proves the task is solvable; v3 code runs unchanged."""

import gymnasium as gym
import pytest
from gymnasium.envs.box2d.lunar_lander import heuristic as v3_heuristic

from envs.lunar.heuristic import heuristic_action


def success_rate(policy, seeds, **fields) -> tuple[float, float]:
    env = gym.make("LunarLanding-v0", **fields)
    successes, returns = 0, []
    for seed in seeds:
        observation, _ = env.reset(seed=seed)
        total = 0.0
        while True:
            observation, reward, terminated, truncated, info = env.step(policy(env, observation))
            total += reward
            if terminated or truncated:
                break
        successes += info["is_success"]
        returns.append(total)
    return successes / len(seeds), sum(returns) / len(returns)


@pytest.mark.parametrize("continuous", [False, True])
def test_heuristic_pilot_lands_at_default_settings(continuous):
    rate, mean_return = success_rate(lambda env, o: heuristic_action(o, continuous),
                                     range(20), continuous=continuous)
    assert rate >= 0.9
    assert mean_return >= 200.0


def test_gymnasium_lunar_lander_heuristic_runs_unchanged_and_lands():
    rate, mean_return = success_rate(v3_heuristic, range(20))
    assert rate >= 0.8
    assert mean_return >= 200.0
