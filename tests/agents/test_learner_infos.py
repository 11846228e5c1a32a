"""The learner-only wrappers read a batched world's arrays: the numbers of the dicts."""

import numpy as np
import pytest
from stable_baselines3.common.vec_env import VecEnvWrapper, VecMonitor

from exgen.agents.batched_vec_env import make_batched_vec_env
from exgen.agents.learner_infos import info_column, learner_infos, outcome_in
from exgen.agents.reward_shaping import GAVE_UP, shape_rewards
from exgen.agents.route_reward import UNPENALIZED
from exgen.envs.city import public

ENV_ID = "CityDriving-v0"
#: A small city, discrete actions: quick episodes.
CITY = {"map_seed": 3, "continuous": False, "grid_columns": 4, "grid_rows": 4}
#: The route reward of the city's PPO table, with a short patience.
TABLE = {"route_reward": True, "ttc_s": 1.5, "wrong_lane_penalty": 5.0,
         "terminal_penalty": 1.0, "give_up_on_infraction": ["red_light", "off_road"],
         "give_up_after_steps": 15, "step_penalty": 0.02}


class _DictsOnly(VecEnvWrapper):
    """Passes the steps of a batched world on, but hides its arrays: the wrappers
    around it read the per-env dicts."""

    learner_infos = None

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        return self.venv.step_wait()


def _batch(n: int, seed: int, hide_arrays: bool = False):
    batch = make_batched_vec_env(ENV_ID, n, seed=seed, env_kwargs=CITY, table=TABLE)
    return _DictsOnly(batch) if hide_arrays else batch


def test_the_batchs_arrays_give_each_key_as_the_per_env_dicts_do():
    batch = _batch(8, 4)
    batch.reset()
    assert batch.learner_infos is None  # no step yet
    actions = np.random.default_rng(4)
    ended = []
    for _ in range(250):
        _, _, dones, infos = batch.step(actions.integers(0, 9, 8))
        arrays = learner_infos(VecMonitor(batch))  # found through wrappers
        assert arrays is batch.learner_infos
        assert {key.lstrip("_") for key in arrays} <= set(public.LEARNER_INFO)
        for keys in (("route_completion",), ("speed_mps",), ("speed_limit_mps",),
                     *(("infractions", name) for name in ("red_light", "wrong_lane",
                                                          "off_road"))):
            got, expected = info_column(arrays, infos, *keys), info_column(None, infos, *keys)
            assert got.dtype == expected.dtype and np.array_equal(got, expected), keys
        for outcomes in (UNPENALIZED, (GAVE_UP,), ("collision",)):
            np.testing.assert_array_equal(outcome_in(arrays, infos, outcomes),
                                          outcome_in(None, infos, outcomes))
        ended += [info["outcome"] for info, done in zip(infos, dones, strict=True) if done]
    assert GAVE_UP in ended  # given-up cities are marked in the arrays too


def test_a_key_some_envs_lack_is_read_from_the_dicts():
    arrays = {"outcome": np.array(["driving", None], object),
              "_outcome": np.array([True, False]),
              "speed_mps": np.array([1.0, 2.0]), "_speed_mps": np.array([True, False])}
    infos = [{"outcome": "driving", "speed_mps": 1.0}, {"speed_mps": 3.0}]
    np.testing.assert_array_equal(info_column(arrays, infos, "speed_mps"), [1.0, 3.0])
    np.testing.assert_array_equal(outcome_in(arrays, infos, ("driving",)), [True, False])
    with pytest.raises(KeyError):
        info_column({}, [{}], "speed_mps")


def test_the_learners_rewards_from_the_arrays_are_those_from_the_dicts_bit_for_bit():
    venvs = [shape_rewards(VecMonitor(_batch(8, 9, hide_arrays=hide)), TABLE, ENV_ID)
             for hide in (False, True)]
    for venv in venvs:
        venv.reset()
    actions = np.random.default_rng(9)
    ended = 0
    for _ in range(300):
        chosen = actions.choice([0, 2, 3, 5, 8], 8)
        (obs, rewards, dones, infos), (obs_d, rewards_d, dones_d, infos_d) = (
            venv.step(chosen) for venv in venvs)
        assert rewards.dtype == rewards_d.dtype == np.float32
        np.testing.assert_array_equal(rewards, rewards_d)
        np.testing.assert_array_equal(dones, dones_d)
        np.testing.assert_array_equal(obs, obs_d)
        assert [info.get("outcome") for info in infos] == [
            info.get("outcome") for info in infos_d]
        ended += int(dones.sum())
    assert ended >= 8
