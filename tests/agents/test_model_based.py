"""The model-based agent ``mbrl``: its model, its planner, its boundary and its checkpoints."""

import ast
import inspect
import itertools

import gymnasium as gym
import numpy as np
import pytest
import torch

from exgen.agents import make_agent, model_based, run_episodes
from exgen.agents.base import OnlineAgent
from exgen.agents.model_based import CEMPlanner, ModelBasedAgent, RecencyBuffer, WorldModel
from exgen.agents.public_view import ALLOWED_INFO, as_public

#: Short episodes keep these tests to seconds: a few decisions of a small planner.
SMALL = {"horizon": 4, "population": 16, "elites": 4, "iterations": 2, "members": 2,
         "hidden": 16, "train_steps": 5, "batch_size": 32, "random_episodes": 1}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def short_env(steps: int = 60) -> gym.Env:
    return gym.make("LunarLanding-v0", max_episode_steps=steps)


def test_model_fit_recovers_a_linear_system():
    """x' = A x + B u + noise: the fitted ensemble predicts the change A x + B u - x."""
    rng = np.random.default_rng(0)
    a = np.array([[0.9, 0.2], [-0.1, 0.95]], np.float32)
    b = np.array([[0.0, 0.5, -0.5], [0.3, 0.0, 0.2]], np.float32).T  # action index -> push
    buffer = RecencyBuffer(2, 5000, half_life=1e9)
    for _ in range(4000):
        x = rng.uniform(-1, 1, 2).astype(np.float32)
        u = int(rng.integers(3))
        nxt = a @ x + b[u] + rng.normal(0, 0.01, 2)
        buffer.add(x, u, float(-nxt @ nxt), nxt, ended=False)
    model = WorldModel(2, 3, members=3, hidden=32, learning_rate=3e-3, seed=1)
    model.train_steps(buffer, 600, 128, rng)
    x = rng.uniform(-1, 1, (200, 2)).astype(np.float32)
    u = rng.integers(3, size=200)
    truth = x @ a.T + b[u] - x
    error = np.abs(model.predict_delta(x, u) - truth).mean()
    spread = np.abs(truth - truth.mean(0)).mean()
    assert error < 0.05 * spread, (error, spread)
    _, reward, end = model.step(np.broadcast_to(x, (3, 200, 2)).copy(), u)
    assert np.abs(reward.mean(0) - (-(x @ a.T + b[u]) ** 2).sum(1)).mean() < 0.05
    assert end.max() < 0.05  # it never saw an end


def test_planning_layers_compute_the_networks_on_normalised_one_hot_inputs():
    """The planner's step (normalisation folded into the first layers, one-hot actions
    as rows, the mean head alone) equals the networks run on their own inputs."""
    rng = np.random.default_rng(3)
    model = WorldModel(5, 4, members=3, hidden=16, seed=2)
    for network in (model.dynamics, model.outcome):
        for bias in network.biases:
            torch.nn.init.uniform_(bias, -1.0, 1.0)  # non-zero biases, as after fitting
    obs = rng.normal(2.0, 3.0, (500, 5)).astype(np.float32)
    model.set_scales(obs, obs + rng.normal(0.0, 0.1, obs.shape).astype(np.float32),
                     rng.normal(size=500), np.zeros(500))
    model._refresh()
    states = rng.normal(2.0, 3.0, (3, 50, 5)).astype(np.float32)
    actions = rng.integers(4, size=50)
    x = model._inputs(states, np.broadcast_to(actions, (3, 50)))
    delta = model_based.numpy_forward(model.dynamics.numpy_layers(), x)[..., :5]
    out = model_based.numpy_forward(model.outcome.numpy_layers(),
                                    np.concatenate([x, delta], -1).reshape(1, 150, -1))[0]
    end = 1.0 / (1.0 + np.exp(-out[:, 2].reshape(3, 50)))
    going_on = model.reward_scale.inverse(out[:, :1])[:, 0].reshape(3, 50)
    at_end = model.end_reward_scale.inverse(out[:, 1:2])[:, 0].reshape(3, 50)
    next_states, reward, ended = model.step(states, actions)
    np.testing.assert_allclose(next_states, states + model.delta_scale.inverse(delta),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ended, end, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(reward, (1 - end) * going_on + end * at_end, rtol=1e-4,
                               atol=1e-4)


def noisy_linear_buffer(noise: float, rng: np.random.Generator) -> RecencyBuffer:
    """x' = 0.9 x + N(0, noise²) in one dimension, one action, never an end."""
    buffer = RecencyBuffer(1, 5000, half_life=1e9)
    for _ in range(4000):
        x = rng.uniform(-1, 1, 1).astype(np.float32)
        buffer.add(x, 0, 0.0, (0.9 * x + rng.normal(0, noise, 1)).astype(np.float32), False)
    return buffer


def test_sampled_rollouts_spread_as_the_data():
    """Trajectory sampling draws next states with the noise the model learned (here
    0.1 around 0.9 x); without ``rng`` the step is each member's mean."""
    rng = np.random.default_rng(0)
    model = WorldModel(1, 1, members=2, hidden=32, learning_rate=3e-3, seed=1)
    model.train_steps(noisy_linear_buffer(0.1, rng), 800, 128, rng)
    states = np.full((2, 4000, 1), 0.5, np.float32)
    actions = np.zeros(4000, np.int64)
    mean, _, _ = model.step(states, actions)
    drawn, _, _ = model.step(states, actions, np.random.default_rng(1))
    assert mean.std() < 0.02 and abs(mean.mean() - 0.45) < 0.03
    assert abs(drawn.std() - 0.1) < 0.02 and abs(drawn.mean() - 0.45) < 0.03
    again, _, _ = model.step(states, actions, np.random.default_rng(1))
    assert np.array_equal(drawn, again)


def test_end_is_learnt_from_what_the_planner_sees():
    """Beyond x = 1 half the decisions end, with a random jump of the observation (an
    impact): the real change gives the end away, the predicted one cannot. Learnt on
    the predicted change, the classifier gives the planner the end's probability,
    about 0.5 there; learnt on the real one it misses the ends (as it missed the hard
    landings of try 2)."""
    def end_probability(on_predicted: bool) -> np.ndarray:
        rng = np.random.default_rng(0)
        buffer = RecencyBuffer(1, 5000, half_life=1e9)
        for _ in range(4000):
            x = rng.uniform(0, 1.2, 1).astype(np.float32)
            ends = bool(x[0] > 1.0 and rng.random() < 0.5)
            jump = rng.normal(0, 1.0, 1) if ends else 0.0
            buffer.add(x, 0, 0.0, (x + 0.05 + jump).astype(np.float32), ends)
        model = WorldModel(1, 1, members=2, hidden=32, learning_rate=3e-3, seed=1,
                           end_balance=0.0, outcome_on_predicted=on_predicted)
        model.train_steps(buffer, 600, 128, rng)
        x = np.array([0.2, 0.5, 0.9, 1.03, 1.06, 1.09], np.float32)[:, None]
        _, _, end = model.step(np.broadcast_to(x, (2, 6, 1)).copy(), np.zeros(6, np.int64))
        return end.mean(0)

    predicted = end_probability(True)
    assert predicted[:3].max() < 0.05 and np.all(np.abs(predicted[3:] - 0.5) < 0.15), predicted
    assert end_probability(False)[3:].max() < 0.2  # the shortcut, for contrast


def test_end_balance_weighs_the_rare_ends():
    """With one end in 100 decisions the ends weigh 1, 10 or 100 at balance 0, 0.5, 1."""
    ended = np.zeros(1010, np.float32)
    ended[:10] = 1.0
    obs = np.zeros((1010, 2), np.float32)
    for balance, weight in ((0.0, 1.0), (0.5, 10.0), (1.0, 100.0)):
        model = WorldModel(2, 3, members=1, hidden=8, end_balance=balance)
        model.set_scales(obs, obs + 1, ended, ended)
        assert model.end_weight == pytest.approx(weight)


def test_critic_learns_the_value_beyond_the_horizon():
    """Independent states, reward x0 + 1, never an end: V(s) = x0 + 1 + gamma / (1 - gamma)
    (the next state's expected value), which the TD(0) critics recover."""
    rng = np.random.default_rng(0)
    buffer = RecencyBuffer(2, 5000, half_life=1e9)
    states = rng.uniform(-1, 1, (4001, 2)).astype(np.float32)
    for x, nxt in itertools.pairwise(states):
        buffer.add(x, int(rng.integers(3)), float(x[0] + 1), nxt, ended=False)
    model = WorldModel(2, 3, members=2, hidden=32, learning_rate=3e-3, seed=1, gamma=0.5,
                       tau=0.05)
    model.train_steps(buffer, 800, 128, rng)
    x = rng.uniform(-1, 1, (200, 2)).astype(np.float32)
    value = model.state_value(np.broadcast_to(x, (2, 200, 2)).copy())
    assert np.abs(value - (x[:, 0] + 2)).mean() < 0.15, np.abs(value - (x[:, 0] + 2)).mean()


class PointMass:
    """A known model for the planner: a 1-D point mass pushed left, not or right;
    reward = -(distance to the target)², the episode ends nowhere."""

    members = 1

    def __init__(self, target: float) -> None:
        self.target = target

    def step(self, states, actions, rng=None):
        x, v = states[..., 0], states[..., 1]
        v = v + 0.1 * (np.asarray(actions) - 1)
        x = x + 0.1 * v
        nxt = np.stack([x, v], -1)
        return nxt, -(x - self.target) ** 2, np.zeros_like(x)


def test_planner_drives_a_known_model_to_its_target():
    model = PointMass(target=1.0)
    planner = CEMPlanner(3, horizon=15, population=64, elites=8, iterations=3)
    rng = np.random.default_rng(0)
    state, plan = np.zeros(2, np.float32), None
    for _ in range(150):
        previous = None if plan is None else np.append(plan[1:], plan[-1])
        plan = planner.plan(model, state, rng, previous)
        state, _, _ = model.step(state[None, None], plan[:1])
        state = state[0, 0]
    assert abs(state[0] - 1.0) < 0.15 and abs(state[1]) < 0.2, state


def test_planner_counts_rewards_only_until_the_predicted_end():
    class EndsAtOnce(PointMass):
        def step(self, states, actions, rng=None):
            nxt, _, _ = super().step(states, actions)
            return nxt, np.ones(nxt.shape[:-1]), np.ones(nxt.shape[:-1])

    planner = CEMPlanner(3, horizon=5, population=4)
    values = planner.evaluate(EndsAtOnce(0.0), np.zeros(2), np.zeros((4, 5), np.int64))
    assert np.allclose(values, 1.0)


def test_registered_and_plays_within_the_boundary():
    env = short_env()
    agent = make_agent("mbrl", as_public(env), seed=10_000, **SMALL)
    assert isinstance(agent, ModelBasedAgent)
    seen = []
    observe = agent.observe
    agent.observe = lambda transition: (seen.append(transition), observe(transition))
    records = run_episodes(agent, env, 2, seed=10_000, learn=True)
    assert len(records) == 2 and seen
    assert all(set(t.info) <= set(ALLOWED_INFO) for t in seen)
    assert agent.model.fitted and agent.buffer.size > 0


def test_code_never_reads_info_or_the_env_internals():
    """Only observations, rewards and ends: no ``.info``, no ``context``, no ``unwrapped``,
    and nothing from the lunar world's published interface."""
    tree = ast.parse(inspect.getsource(model_based))
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not attributes & {"info", "unwrapped", "context", "config", "world"}
    imports = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(module and module.startswith("exgen.envs.lunar") for module in imports)


def test_deterministic_prediction_does_not_learn():
    env = short_env()
    agent = ModelBasedAgent(as_public(env), seed=10_001, **SMALL)
    run_episodes(agent, env, 1, seed=10_001, learn=True)
    weights = [p.detach().clone() for p in agent.model.dynamics.parameters()]
    size, rng_state = agent.buffer.size, agent.rng.bit_generator.state
    run_episodes(agent, env, 1, seed=1_000_000, deterministic=True)
    assert agent.buffer.size == size and agent.rng.bit_generator.state == rng_state
    assert all(torch.equal(a, b) for a, b in
               zip(weights, agent.model.dynamics.parameters(), strict=True))


def actions_of(agent, env, seed, deterministic=False):
    actions = []
    predict = agent.predict

    def record(*arguments, **keywords):
        action, state = predict(*arguments, **keywords)
        actions.append(action)
        return action, state

    agent.predict = record
    run_episodes(agent, env, 1, seed=seed, deterministic=deterministic,
                 learn=not deterministic)
    del agent.predict
    return actions


def test_same_seed_same_actions():
    env = short_env()
    runs = []
    for _ in range(2):
        agent = ModelBasedAgent(as_public(env), seed=10_002, **SMALL)
        first = actions_of(agent, env, 10_002)  # random, then a fit
        runs.append(first + actions_of(agent, env, 10_003))  # planned
    assert runs[0] == runs[1]
    assert len(set(runs[0])) > 1


def test_sampled_rollouts_are_reproducible_and_change_the_plans():
    env = short_env()
    runs = []
    for sample in (True, True, False):
        agent = ModelBasedAgent(as_public(env), seed=10_002, **SMALL, sample_rollouts=sample)
        actions_of(agent, env, 10_002)
        runs.append(actions_of(agent, env, 10_003) + actions_of(agent, env, 1_000_002, True))
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_save_load_round_trip_plays_the_same(tmp_path):
    env = short_env()
    agent = ModelBasedAgent(as_public(env), seed=10_004, **SMALL)
    run_episodes(agent, env, 1, seed=10_004, learn=True)
    agent.save(tmp_path / "mbrl.pkl")
    loaded = OnlineAgent.load(tmp_path / "mbrl.pkl", env=as_public(env))
    assert isinstance(loaded, ModelBasedAgent) and loaded.buffer.size == agent.buffer.size
    assert actions_of(loaded, env, 1_000_001, True) == actions_of(agent, env, 1_000_001, True)
    # and it resumes learning where it stopped
    run_episodes(loaded, env, 1, seed=10_005, learn=True)
    assert loaded.episodes == agent.episodes + 1


def test_recency_weighting_favours_the_latest_data():
    buffer = RecencyBuffer(1, 100, half_life=10)
    for i in range(150):  # wraps: rows hold 50..149
        buffer.add(np.array([i], np.float32), 0, 0.0, np.array([i], np.float32), False)
    rows = buffer.sample(np.random.default_rng(0), buffer.cumulative_weights(), (4000,))
    values = buffer.obs[rows, 0]
    assert values.min() >= 50 and np.median(values) > 135
