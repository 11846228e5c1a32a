import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import exgen  # noqa: F401
from exgen.envs.mixture import make_env

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
