"""Episodes of a non-learning agent played many at once equal those played one by one."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

from exgen.agents import AgentError, make_agent, run_episodes
from exgen.agents.batched_episodes import plays_batched, predict_batch, run_batched_episodes
from exgen.agents.episode_worlds import LockstepEnvs, episode_world
from tests.agents.test_episodes import Recorder

SMALL_CITY = {"continuous": False, "observe_route": True, "grid_columns": 3, "grid_rows": 3}


def timeless(records):
    return [dataclasses.replace(r, wall_time=0.0) for r in records]


def test_only_sb3_agents_with_discrete_actions_play_batched():
    lunar = gym.make("LunarLanding-v0")
    assert plays_batched(make_agent("ppo", lunar, seed=0))
    assert plays_batched(make_agent("dqn", lunar, seed=0))
    continuous = gym.make("LunarLanding-v0", continuous=True)
    assert not plays_batched(make_agent("ppo", continuous, seed=0))
    # A grid of continuous actions is a discrete choice.
    assert plays_batched(make_agent("ppo", continuous, seed=0,
                                    action_grid=[[-1, 0, 1], [-1, 0, 1]]))
    assert not plays_batched(make_agent("random", lunar, seed=0))
    assert not plays_batched(Recorder(lunar))
    with pytest.raises(ValueError, match="cannot play batched"):
        run_batched_episodes(Recorder(lunar), LockstepEnvs([lunar]), [0], 1)


@pytest.mark.parametrize("hyperparameters", [
    {"frame_stack": 3}, {"action_grid": [[-1, 0, 1], [-1, 0.5, 1]], "factored_actions": True}])
def test_a_batch_predicts_what_predict_does_row_by_row(hyperparameters):
    continuous = "action_grid" in hyperparameters
    env = gym.make("LunarLanding-v0", continuous=continuous)
    agent = make_agent("ppo", env, seed=1, n_steps=64, batch_size=32, **hyperparameters)
    rng = np.random.default_rng(0)
    observations = rng.normal(size=(6, 5, 8)).astype(np.float32)  # steps x envs x obs
    states = [None] * 5
    stacks = np.zeros((5, 8 * agent.frame_stack), np.float32)
    for t, batch in enumerate(observations):
        starts = np.full(5, t == 0) | (np.arange(5) == t % 5)
        actions, new = predict_batch(agent, batch, stacks if agent.frame_stack > 1 else None,
                                     starts, True)
        for i in range(5):
            action, states[i] = agent.predict(batch[i], state=states[i],
                                              episode_start=starts[i:i + 1],
                                              deterministic=True)
            assert np.array_equal(actions[i], action)
            if agent.frame_stack > 1:
                assert np.array_equal(new[i], states[i])
        stacks = new


def test_lunar_instances_in_lockstep_are_the_sequential_episodes():
    env = gym.make("LunarLanding-v0")
    agent = make_agent("ppo", env, seed=4, n_steps=64, batch_size=32)
    instances = [{"gravity": 3.71}, {"gravity": 9.81, "wind_speed": 5.0}, {}]
    seeds = [5000 + i for i in range(len(instances))]
    world = episode_world("LunarLanding-v0", instances)
    assert isinstance(world, LockstepEnvs)
    batched = run_batched_episodes(agent, world, seeds, 2, agent_name="ppo")
    for instance, seed, records in zip(instances, seeds, batched, strict=True):
        sequential = run_episodes(agent, gym.make("LunarLanding-v0", **instance), 2,
                                  seed=seed, deterministic=True, agent_name="ppo")
        assert timeless(records) == timeless(sequential)
    assert [r.seed for r in batched[0]] == [5000, None]


@pytest.mark.parametrize("world", ["batched", "lockstep"])
def test_an_action_outside_the_space_is_the_agents_error(world):
    agent = make_agent("ppo", gym.make("CityDriving-v0", **SMALL_CITY), seed=0,
                       batch_size=64)
    agent.model.predict = lambda observations, deterministic: (
        np.full(len(observations), 99), None)
    envs = episode_world("CityDriving-v0", [SMALL_CITY, SMALL_CITY], world)
    with pytest.raises(AgentError, match="returned 99 in episode 0 of env 0"):
        run_batched_episodes(agent, envs, [1, 2], 1, agent_name="bad")


def test_the_world_is_refused_where_it_does_not_exist():
    with pytest.raises(ValueError, match="no batched world"):
        episode_world("LunarLanding-v0", [{}], "batched")
    with pytest.raises(ValueError, match="world must be"):
        episode_world("CityDriving-v0", [{}], "threads")
