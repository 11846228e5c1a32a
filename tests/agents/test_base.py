"""OnlineAgent's save and load, including agents saved before the ``exgen`` namespace."""

import pickle

import gymnasium as gym
import numpy as np

from exgen.agents import OnlineAgent, run_episodes
from exgen.physics_baseline import LunarPlanner


def planner_after_one_landing() -> LunarPlanner:
    env = gym.make("LunarLanding-v0")
    planner = LunarPlanner(env, seed=1)
    run_episodes(planner, env, 1, seed=1, learn=True)
    return planner


def test_a_saved_planner_loads_with_what_it_learned(tmp_path):
    planner = planner_after_one_landing()
    planner.save(tmp_path / "model.pkl")
    loaded = OnlineAgent.load(tmp_path / "model.pkl", env=None)
    assert isinstance(loaded, LunarPlanner)
    assert loaded.report() == planner.report()


def test_an_agent_pickled_before_the_namespace_loads(tmp_path):
    """Protocol 0 names classes as text, so the old module path can be written in."""
    planner = planner_after_one_landing()
    text = pickle.dumps(planner, protocol=0)
    old = text.replace(b"cexgen.physics_baseline.", b"cphysics_baseline.")
    assert b"cphysics_baseline.lunar_planner" in old
    (tmp_path / "model.pkl").write_bytes(old)
    loaded = OnlineAgent.load(tmp_path / "model.pkl")
    assert isinstance(loaded, LunarPlanner)
    np.testing.assert_equal(loaded.report(), planner.report())
