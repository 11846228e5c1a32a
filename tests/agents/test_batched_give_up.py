"""Giving up over a batch: one rule per city, applied to the world's arrays at once."""

import numpy as np
import pytest

from exgen.agents.batched_give_up import BatchGiveUp, gave_up_infos
from exgen.agents.batched_vec_env import unbatch_infos
from exgen.agents.reward_shaping import GiveUpRule, gave_up

ENV_ID = "CityDriving-v0"
CITY = {"map_seed": 3, "continuous": False, "grid_columns": 4, "grid_rows": 4}


def _world(n: int, seed: int):
    import gymnasium as gym

    world = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point",
                         **CITY)
    world.reset(seed=seed)
    return world


@pytest.mark.parametrize("patience, infractions", [
    (6, ("red_light", "wrong_lane", "off_road")),
    (25, ()),
    (None, ("wrong_lane", "off_road")),
])
def test_the_batch_gives_up_where_one_rule_per_city_would(patience, infractions):
    n = 6
    world = _world(n, 2)
    batch = BatchGiveUp(n, patience, infractions)
    rules = [GiveUpRule(patience, infractions) for _ in range(n)]
    actions = np.random.default_rng(2)
    given_up = 0
    for _ in range(300):
        _, rewards, terminated, truncated, infos = world.step(
            actions.choice([0, 2, 3, 5, 8], n))
        dicts = unbatch_infos(infos, n)
        expected = [rule.gives_up(rewards[i], bool(terminated[i] or truncated[i]), dicts[i])
                    for i, rule in enumerate(rules)]
        got = batch(rewards, terminated, truncated, infos)
        assert got.dtype == np.bool_ and got.tolist() == expected
        ended = got | terminated | truncated
        given_up += int(got.sum())
        if ended.any():  # as the adapter: the ended cities start afresh
            world.reset(options={"reset_mask": ended})
            batch.reset(ended)
            for i in np.flatnonzero(ended):
                rules[i].reset()
    assert given_up >= 3


def test_the_given_up_cities_infos_are_what_gave_up_makes_of_their_dicts():
    n = 4
    world = _world(n, 5)
    infos = world.step(np.zeros(n, np.int64))[4]
    mask = np.array([False, True, False, True])
    changed = unbatch_infos(gave_up_infos(infos, mask), n)
    before = unbatch_infos(infos, n)
    for i in range(n):
        expected = gave_up(before[i]) if mask[i] else before[i]
        assert changed[i] == expected and list(changed[i]) == list(expected)
    assert unbatch_infos(infos, n) == before  # the world's arrays are left alone


def test_a_key_no_city_had_is_added_for_the_given_up_ones_only():
    infos = {"speed": np.array([1.0, 2.0]), "_speed": np.array([True, True])}
    changed = unbatch_infos(gave_up_infos(infos, np.array([False, True])), 2)
    assert changed == [{"speed": 1.0}, gave_up({"speed": 2.0})]
    assert list(changed[1]) == list(gave_up({"speed": 2.0}))
