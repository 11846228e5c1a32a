"""Compare's held-out episodes: batched for an SB3 agent, the very episodes it plays
instance by instance; sequential, learning between trials, for an online agent."""

import dataclasses
import json

import gymnasium as gym
import pytest

from exgen.agents import make_agent
from exgen.experiments import held_out
from exgen.experiments.held_out import play_instances
from tests.agents.test_episodes import Recorder

SMALL_CITY = {"continuous": False, "observe_route": True, "grid_columns": 3, "grid_rows": 3}
FIRST = 1_000_000


def saved(folder, agent, name):
    """``agent`` saved as a training run's model, which ``load_trained_agent`` loads."""
    path = folder / ("model.zip" if name == "ppo" else "model.pkl")
    agent.save(path)
    (folder / "run.json").write_text(json.dumps({"agent": name}))
    return path


def timeless(played):
    return [[dataclasses.replace(r, wall_time=0.0) for r in trials] for trials in played]


@pytest.fixture(scope="module")
def city_ppo(tmp_path_factory):
    """A PPO agent of random initial weights for the small city."""
    agent = make_agent("ppo", gym.make("CityDriving-v0", **SMALL_CITY), seed=2, batch_size=64)
    return saved(tmp_path_factory.mktemp("ppo"), agent, "ppo")


@pytest.mark.parametrize("world", ["batched", "lockstep"])
def test_unseen_cities_batched_are_the_sequential_episodes(city_ppo, world):
    # A per-instance map seed, as new-city's tests: each instance its own city.
    instances = [{**SMALL_CITY, "map_seed": FIRST + i} for i in range(3)]
    sequential = play_instances("CityDriving-v0", city_ppo, instances, FIRST, 2,
                                agent_name="ppo", learn=True, batched=False)
    batched = play_instances("CityDriving-v0", city_ppo, instances, FIRST, 2,
                             agent_name="ppo", learn=True, world=world)
    assert timeless(batched) == timeless(sequential)
    assert [[r.seed for r in trials] for trials in batched] == [
        [FIRST + i, None] for i in range(3)]
    assert [trials[0].context["map_seed"] for trials in batched] == [FIRST, FIRST + 1,
                                                                     FIRST + 2]
    assert all(r.infractions and r.driving_score is not None
               for trials in batched for r in trials)
    assert [[r.episode for r in trials] for trials in batched] == [[0, 1]] * 3


def test_cities_of_unlike_contexts_share_a_batch(city_ppo):
    # A map file (no map seed) beside seeded cities, another preset: one batch.
    instances = [{**SMALL_CITY, "map_seed": FIRST}, {"continuous": False,
                                                     "observe_route": True,
                                                     "map_file": "ring"},
                 {**SMALL_CITY, "map_seed": FIRST + 2, "preset": "ice"}]
    sequential = play_instances("CityDriving-v0", city_ppo, instances, FIRST, 1,
                                agent_name="ppo", learn=False, batched=False)
    batched = play_instances("CityDriving-v0", city_ppo, instances, FIRST, 1,
                             agent_name="ppo", learn=False)
    assert timeless(batched) == timeless(sequential)
    assert batched[1][0].context["map_seed"] is None


def test_an_online_agent_plays_instance_by_instance_and_learns_between_trials(
        tmp_path, monkeypatch):
    path = saved(tmp_path, Recorder(gym.make("LunarLanding-v0")),
                 "tests.agents.test_episodes:Recorder")
    calls = []
    original = held_out._play

    def play(learner, *arguments):
        calls.append(learner)
        return original(learner, *arguments)

    monkeypatch.setattr(held_out, "_play", play)
    played = play_instances("LunarLanding-v0", path, [{}, {"gravity": 3.71}], FIRST, 3,
                            agent_name="recorder", learn=True)
    assert [len(trials) for trials in played] == [3, 3]
    assert len({id(learner) for learner in calls}) == 2  # loaded afresh per instance
    # It learned from its first two trials only: nothing would use the last one's.
    assert [len(learner.records) for learner in calls] == [2, 2]
