import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

import exgen  # noqa: F401
from exgen.agents.reward_shaping import check_shaping, env_wrapper, shape_rewards
from exgen.agents.route_reward import RouteReward
from exgen.envs.city import public


class _Scripted(VecEnv):
    """One env whose steps return the scripted infos, dones and observations."""

    render_mode = None

    def __init__(self, steps: list[tuple[dict, bool]]) -> None:
        super().__init__(1, gym.spaces.Box(-1.0, 1.0, (3,)), gym.spaces.Discrete(2))
        self.steps = iter(steps)

    def reset(self):
        return np.zeros((1, 3), dtype=np.float32)

    def step_async(self, actions):
        pass

    def step_wait(self):
        info, done = next(self.steps)
        info = {"speed_mps": 5.0, "speed_limit_mps": 10.0, "outcome": "driving", **info}
        if done:
            info["terminal_observation"] = np.full(3, 0.5, dtype=np.float32)
        return np.zeros((1, 3), np.float32), np.array([-7.0]), np.array([done]), [info]

    def close(self):
        pass

    def get_attr(self, name, indices=None):
        return [getattr(self, name)]

    def set_attr(self, name, value, indices=None):
        pass

    def env_method(self, name, *args, indices=None, **kwargs):
        pass

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False]


def _paid(steps, gap=lambda seen: np.full(len(seen), np.inf), **settings) -> list[float]:
    venv = RouteReward(_Scripted(steps), gap, **settings)
    venv.reset()
    return [float(venv.step(np.array([0]))[1][0]) for _ in steps]


def test_the_learner_is_paid_route_percent_gained_and_the_env_reward_is_dropped():
    paid = _paid([({"route_completion": 0.1}, False), ({"route_completion": 0.25}, False),
                  ({"route_completion": 0.2}, False)])
    assert paid == pytest.approx([10.0, 15.0, -5.0])


def test_speeding_scales_a_gain_down_to_nothing_and_leaves_a_loss_whole():
    over = {"speed_mps": 10.0 + 2.23 / 2}
    paid = _paid([({"route_completion": 0.1, **over}, False),
                  ({"route_completion": 0.2, "speed_mps": 15.0}, False),
                  ({"route_completion": 0.1, "speed_mps": 15.0}, False)])
    assert paid == pytest.approx([5.0, 0.0, -10.0])


@pytest.mark.parametrize("outcome, penalty", [
    ("collision", 3.0), ("gave_up", 3.0), ("arrived", 0.0), ("timeout", 0.0)])
def test_an_end_other_than_arrival_or_the_time_limit_costs_the_terminal_penalty(outcome,
                                                                                penalty):
    paid = _paid([({"route_completion": 0.1}, False),
                  ({"route_completion": 0.3, "outcome": outcome}, True),
                  ({"route_completion": 0.05}, False)], terminal_penalty=3.0)
    assert paid == pytest.approx([10.0, 20.0 - penalty, 5.0])  # a new episode from 0


def test_a_short_time_to_collision_halves_a_gain_and_reads_the_steps_own_observation():
    seen = []

    def gap(vectors):
        seen.append(vectors.copy())
        return np.array([4.0])

    paid = _paid([({"route_completion": 0.1, "speed_mps": 3.0}, False),  # 1.33 s
                  ({"route_completion": 0.2, "speed_mps": 1.0, "outcome": "arrived"},
                   True)],  # 4 s
                 gap, ttc_s=2.0)
    assert paid == pytest.approx([5.0, 10.0])
    assert np.all(seen[1] == 0.5)  # the ended episode's last observation, not the reset's


def test_each_wrong_lane_entry_costs_the_penalty_once_and_a_new_episode_counts_afresh():
    def step(completion, entries, done=False):
        return ({"route_completion": completion, "infractions": {"wrong_lane": entries},
                 "outcome": "arrived" if done else "driving"}, done)

    paid = _paid([step(0.1, 0), step(0.2, 1), step(0.3, 1), step(0.4, 3, done=True),
                  step(0.1, 1)], wrong_lane_penalty=4.0)
    assert paid == pytest.approx([10.0, 6.0, 10.0, 2.0, 6.0])


def test_over_a_real_episode_the_gains_add_up_to_its_route_completion():
    table = {"route_reward": True, "overspeed_mps": 1e9, "terminal_penalty": 2.0,
             "give_up_on_infraction": True}
    wrap = env_wrapper(table, "CityDriving-v0")
    inner = DummyVecEnv([lambda: wrap(gym.make("CityDriving-v0", preset="empty",
                                                 continuous=False))])
    venv = shape_rewards(inner, table, "CityDriving-v0")
    venv.seed(11)
    venv.reset()
    throttle = public.DISCRETE_ACTIONS.index((0.0, 1.0))
    paid, done = 0.0, False
    while not done:
        _, reward, dones, infos = venv.step(np.array([throttle]))
        paid, done = paid + float(reward[0]), bool(dones[0])
    penalty = 0.0 if infos[0]["outcome"] in ("arrived", "timeout") else 2.0
    assert infos[0]["route_completion"] > 0.0
    assert paid == pytest.approx(100.0 * infos[0]["route_completion"] - penalty, abs=1e-3)


@pytest.mark.parametrize("table, env_id, message", [
    ({"route_reward": 1}, "CityDriving-v0", "route_reward must be true or false"),
    ({"route_reward": True, "ttc_s": -1.0}, "CityDriving-v0", "ttc_s must be a number >= 0"),
    ({"terminal_penalty": 1.0}, "CityDriving-v0", "terminal_penalty needs route_reward"),
    ({"route_reward": True, "overspeed_mps": 0}, "CityDriving-v0", "overspeed_mps must be > 0"),
    ({"route_reward": True}, "LunarLanding-v0", "route_reward needs an env with a route"),
])
def test_bad_route_reward_settings_are_refused_by_name(table, env_id, message):
    with pytest.raises(ValueError, match=message):
        check_shaping(table, env_id)


def test_the_time_to_collision_reads_the_lidar_where_it_is_with_the_road_users_observed():
    table = {"route_reward": True, "ttc_s": 1.5}

    def shaped(**options):
        inner = DummyVecEnv([lambda: gym.make("CityDriving-v0", continuous=False,
                                              traffic_density=8.0, lidar_rays=16,
                                              observe_route=True, **options)])
        venv = shape_rewards(inner, table, "CityDriving-v0")
        venv.seed(5)
        return venv, venv.reset()

    (plain, a), (users, b) = shaped(), shaped(observe_road_users=True)
    assert b.shape[1] == a.shape[1] + 2 * 16 and np.array_equal(a, b[:, :a.shape[1]])
    rng = np.random.default_rng(2)
    seen = 0
    for _ in range(300):
        gap = plain.lidar_gap(a)
        assert np.array_equal(users.lidar_gap(b), gap)
        # The gap comes from the lidar entries, not from the appended road-user ones.
        clear = b.copy()
        clear[:, public.LIDAR_START:public.LIDAR_START + 16] = 1.0
        assert users.lidar_gap(clear)[0] == np.inf
        seen += int(np.isfinite(gap[0]))
        action = np.array([rng.choice([1, 4, 5, 7])])
        a, paid_a, _, _ = plain.step(action)
        b, paid_b, _, _ = users.step(action)
        assert np.array_equal(paid_a, paid_b)
    assert seen > 10
