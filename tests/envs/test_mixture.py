import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import exgen  # noqa: F401
from exgen.envs.lunar.config import LanderConfig
from exgen.envs.mixture import context_class, context_of, make_env, replace_context

TWO = [{"gravity": 9.81}, {"gravity": 3.71}]


def test_each_episode_is_played_in_one_of_the_contexts_drawn_from_the_seed():
    env = make_env("LunarLanding-v0", contexts=TWO)
    drawn = [env.reset(seed=seed)[1] for seed in range(40)]
    assert {i["context_index"] for i in drawn} == {0, 1}
    assert all(i["context"]["gravity"] == TWO[i["context_index"]]["gravity"] for i in drawn)
    again = make_env("LunarLanding-v0", contexts=TWO)
    for seed, info in enumerate(drawn[:5]):
        observation, repeat = again.reset(seed=seed)
        assert repeat["context_index"] == info["context_index"]
        assert np.array_equal(observation, env.reset(seed=seed)[0])


def test_the_mixture_is_a_valid_env_that_renders_the_drawn_context():
    env = make_env("LunarLanding-v0", contexts=TWO, render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=True)
    env.reset(seed=1)
    assert env.render().ndim == 3
    env.close()


@pytest.mark.parametrize(("contexts", "message"), [
    ([], "non-empty list"),
    ({"gravity": 9.81}, "non-empty list"),
    ([{"gravity": 9.81}, {"gravity": 3.71, "continuous": True}],
     "context 1 gives another action space"),
])
def test_bad_mixtures_are_refused(contexts, message):
    with pytest.raises(ValueError, match=message):
        gym.make("ContextMixture-v0", env_id="LunarLanding-v0", contexts=contexts)


@pytest.mark.parametrize(("base", "changes", "expected"), [
    # A preset replaces the fields it sets; the others stay the run's.
    ({"gravity": 9.81, "initial_height": 12.0}, {"preset": "moon"},
     {"gravity": 1.62, "initial_height": 12.0}),
    ({"preset": ["mars", "strong_wind"]}, {"turbulence": 0.5},
     {"gravity": 3.71, "wind_speed": 10.0, "turbulence": 0.5}),
    ({"gravity": 9.81, "observe_context": True}, {"wind_speed": (0.0, 5.0)},
     {"gravity": 9.81, "observe_context": True, "wind_speed": (0.0, 5.0)}),
    ({"contexts": TWO}, {"preset": "moon"},
     {"contexts": [{"gravity": 1.62}, {"gravity": 1.62}]}),
])
def test_replace_context_replaces_the_fields_the_changes_name(base, changes, expected):
    assert replace_context("LunarLanding-v0", base, changes) == expected


def test_replace_context_refuses_a_change_that_contradicts_its_own_preset():
    with pytest.raises(ValueError, match=r"gravity=3 contradicts preset 'moon'"):
        replace_context("LunarLanding-v0", {}, {"preset": "moon", "gravity": 3})


def test_context_of_is_the_config_made_or_each_of_a_mixture():
    assert context_class("LunarLanding-v0") is LanderConfig
    assert context_class("CartPole-v1") is None
    env = gym.make("LunarLanding-v0", preset="moon", wind_speed=(0.0, 5.0))
    assert context_of(env) == LanderConfig(gravity=1.62, wind_speed=(0.0, 5.0)).to_dict()
    assert [c["gravity"] for c in context_of(make_env("LunarLanding-v0", contexts=TWO))] == [
        9.81, 3.71]
    assert context_of(gym.make("CartPole-v1")) is None
