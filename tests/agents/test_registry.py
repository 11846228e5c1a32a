import gymnasium as gym
import pytest

from examples.hill_climber import HillClimber
from exgen.agents import AgentNotFound, make_agent, resolve
from exgen.agents.base import learning_hooks
from exgen.agents.random_agent import RandomAgent
from exgen.agents.registry import is_learning_agent, unsaved_learning_of
from exgen.agents.sb3 import SB3Agent


@pytest.fixture
def env():
    return gym.make("LunarLanding-v0")


@pytest.mark.parametrize("name", ["ppo", "dqn", "a2c"])
def test_sb3_names_resolve_to_tuned_adapters(name, env):
    agent = make_agent(name, env, seed=0)
    assert isinstance(agent, SB3Agent) and agent.algorithm == name


def test_random_and_import_paths_resolve(env):
    assert isinstance(make_agent("random", env, seed=0), RandomAgent)
    assert resolve("examples.hill_climber:HillClimber") is HillClimber
    assert isinstance(make_agent("examples.hill_climber:HillClimber", env, seed=1), HillClimber)


@pytest.mark.parametrize(("name", "match"), [
    ("ppo2", r"unknown agent 'ppo2'; valid: ppo, dqn, sac, a2c, td3, random, planner"),
    ("", "non-empty string"),
    ("no_such_module:Agent", "cannot import module 'no_such_module'"),
    ("examples.hill_climber:Missing", "has no attribute 'Missing'"),
    ("examples.hill_climber:np", r"has no predict\(\) method"),
])
def test_bad_names_say_what_is_wrong(name, match):
    with pytest.raises(AgentNotFound, match=match):
        resolve(name)


def test_planner_resolves_per_env_and_says_where_none_exists(env):
    assert type(make_agent("planner", env)).__name__ == "LunarPlanner"
    with pytest.raises(AgentNotFound, match="no physics planner for env 'CartPole-v1'; "
                                            "planners exist for: LunarLanding-v0"):
        make_agent("planner", gym.make("CartPole-v1"))


def test_learning_hooks_leave_out_the_online_agents_do_nothing_defaults(env):
    assert learning_hooks(RandomAgent) == () == learning_hooks(make_agent("random", env))
    assert learning_hooks(HillClimber) == ("end_episode",)
    assert learning_hooks(SB3Agent) == ("learn",)
    assert learning_hooks(object()) == ()


@pytest.mark.parametrize(("name", "problem"), [
    ("random", None), ("planner", None), ("ppo", None),
    ("examples.hill_climber:HillClimber", None),  # learns, and saves
    ("tests.scripts.test_train_evaluate:PredictOnly", None),  # saves nothing, learns nothing
    ("tests.scripts.test_train_evaluate:NoSaveLearner",
     "agent 'tests.scripts.test_train_evaluate:NoSaveLearner' learns (observe()) but has no "
     "save(path), so what it learns cannot be kept"),
])
def test_an_agent_that_learns_without_save_is_named(name, problem):
    found = unsaved_learning_of(name)
    assert found == problem if problem is None else found.startswith(problem)


@pytest.mark.parametrize(("name", "learner"), [
    ("ppo", True), ("dqn", True), ("mbrl", True),
    ("examples.hill_climber:HillClimber", True),  # learns (end_episode) and saves
    ("random", False), ("planner", False),  # no hooks; a factory function, one snapshot
    ("tests.agents.test_training:Pilot", False),  # an OnlineAgent that learns nothing
    ("tests.scripts.test_train_evaluate:NoSaveLearner", False),  # cannot keep it
])
def test_learning_agents_are_the_sb3_algorithms_and_classes_that_learn_and_save(name, learner):
    assert is_learning_agent(name) is learner
