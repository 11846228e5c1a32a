import gymnasium as gym
import numpy as np
import pytest

from exgen.agents import AgentError, OnlineAgent, Transition, make_agent, run_episodes


class Recorder(OnlineAgent):
    """Fires the main engine; remembers what the loop fed it."""

    def __init__(self, env, seed=None):
        super().__init__(env, seed)
        self.transitions: list[Transition] = []
        self.records = []

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return 2, state

    def observe(self, transition):
        self.transitions.append(transition)

    def end_episode(self, record):
        self.records.append(record)


def test_records_count_episodes_and_cumulative_steps():
    env = gym.make("LunarLanding-v0")
    records = run_episodes(make_agent("random", env, seed=0), env, 4, seed=0)
    assert [r.episode for r in records] == [0, 1, 2, 3]
    assert np.cumsum([r.length for r in records]).tolist() == [r.total_steps for r in records]
    assert all(r.context["gravity"] == 9.81 and r.outcome != "flying" for r in records)
    assert records[0].seed == 0 and records[1].seed is None


def test_same_seed_same_records():
    env = gym.make("LunarLanding-v0")
    first = run_episodes(make_agent("random", env, seed=3), env, 3, seed=5)
    second = run_episodes(make_agent("random", env, seed=3), env, 3, seed=5)
    assert [(r.episode_return, r.length) for r in first] == [
        (r.episode_return, r.length) for r in second]


def test_hooks_are_fed_only_when_learning():
    env = gym.make("LunarLanding-v0")
    agent = Recorder(env)
    records = run_episodes(agent, env, 2, seed=0, learn=True)
    assert len(agent.transitions) == sum(r.length for r in records)
    assert agent.records == records
    assert agent.transitions[-1].terminated or agent.transitions[-1].truncated
    run_episodes(agent, env, 2, seed=0, learn=False)
    assert len(agent.records) == 2


def test_without_learning_after_the_last_episode_only_it_gets_no_end_episode():
    env = gym.make("LunarLanding-v0")
    agent = Recorder(env)
    records = run_episodes(agent, env, 3, seed=0, learn=True, learn_after_last=False)
    assert agent.records == records[:2]
    assert len(agent.transitions) == sum(r.length for r in records)  # it still observes


def test_a_seed_sequence_seeds_every_episode():
    env = gym.make("LunarLanding-v0")
    records = run_episodes(make_agent("random", env, seed=0), env, seed=[7, 8, 7])
    assert [r.seed for r in records] == [7, 8, 7]


def test_budgets_and_callback_stop_the_loop():
    env = gym.make("LunarLanding-v0")
    agent = make_agent("random", env, seed=0)
    records = run_episodes(agent, env, max_steps=300, seed=0)
    assert sum(r.length for r in records) >= 300
    assert sum(r.length for r in records[:-1]) < 300
    assert len(run_episodes(agent, env, 10, seed=0, callback=lambda r: r.episode < 2)) == 3
    with pytest.raises(ValueError, match="needs n_episodes"):
        run_episodes(agent, env)


class Broken(OnlineAgent):
    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        raise ZeroDivisionError("my bug")


class OutOfSpace(OnlineAgent):
    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return 7, state


@pytest.mark.parametrize(("agent_class", "match"), [
    (Broken, r"agent 'Broken' raised in predict\(\) during episode 0: ZeroDivisionError: my bug"),
    (OutOfSpace, r"agent 'OutOfSpace' returned 7 in episode 0, outside the action space"),
])
def test_agent_bugs_are_reported_with_the_agent_and_episode(agent_class, match):
    env = gym.make("LunarLanding-v0")
    with pytest.raises(AgentError, match=match) as caught:
        run_episodes(agent_class(env), env, 1, seed=0)
    if agent_class is Broken:
        assert isinstance(caught.value.__cause__, ZeroDivisionError)


def test_sb3_actions_pass_the_space_check_in_both_action_modes():
    for continuous, name in ((False, "ppo"), (True, "sac")):
        env = gym.make("LunarLanding-v0", continuous=continuous)
        agent = make_agent(name, env, seed=0)
        records = run_episodes(agent, env, 1, seed=0, deterministic=True)
        assert records[0].length > 0


class _LastInfo(gym.Wrapper):
    def step(self, action):
        *step, self.info = self.env.step(action)
        return (*step, self.info)


def test_a_city_episode_keeps_its_infractions_and_driving_score_and_a_landing_none():
    import exgen  # noqa: F401

    city = _LastInfo(gym.make("CityDriving-v0", preset="empty", continuous=False))
    record = run_episodes(make_agent("random", city, seed=0), city, 1, seed=3)[0]
    assert record.driving_score == city.info["driving_score"]
    assert record.infractions == city.info["infractions"]
    lander = gym.make("LunarLanding-v0")
    landing = run_episodes(make_agent("random", lander, seed=0), lander, 1, seed=3)[0]
    assert landing.driving_score is None
