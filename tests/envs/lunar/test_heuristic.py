"""The heuristic controller proves the task is solvable; v3 code runs unchanged."""

import pytest
from gymnasium.envs.box2d.lunar_lander import heuristic as v3_heuristic

from exgen.agents.evaluation import evaluate_policy
from exgen.envs.lunar.heuristic import heuristic_action


def heuristic(env, observation):
    return heuristic_action(observation, env.unwrapped.continuous)


@pytest.mark.parametrize("continuous", [False, True])
def test_heuristic_lands_at_default_settings(continuous):
    stats = evaluate_policy("LunarLanding-v0", heuristic, range(20), continuous=continuous)
    assert stats.success_rate >= 0.9
    assert stats.mean_return >= 200.0
    assert stats.outcomes["landed"] == stats.successes


def test_gymnasium_lunar_lander_heuristic_runs_unchanged_and_lands():
    stats = evaluate_policy("LunarLanding-v0", v3_heuristic, range(20))
    assert stats.success_rate >= 0.8
    assert stats.mean_return >= 200.0


@pytest.mark.parametrize("fields", [{"gravity": 0.5}, {"gravity": 1.62}, {"gravity": 3.71},
                                    {"gravity": 24.79}, {"gravity": 25.0}])
def test_default_engines_land_from_half_a_metre_per_second_squared_to_jupiter(fields):
    stats = evaluate_policy("LunarLanding-v0", heuristic, range(50), **fields)
    assert stats.success_rate >= 0.8, stats
