import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.noise import OrnsteinUhlenbeckActionNoise

from exgen.agents import make_agent, run_episodes
from exgen.agents.sb3 import ALGORITHMS, HYPERPARAMETER_FOLDER, SB3Agent, load_hyperparameters

TINY = {"ppo": {"n_steps": 64, "batch_size": 32, "n_envs": 1},
        "a2c": {"n_envs": 1},
        "dqn": {"learning_starts": 50, "buffer_size": 1000},
        "sac": {"learning_starts": 50, "buffer_size": 1000, "batch_size": 32},
        "td3": {"learning_starts": 50, "buffer_size": 1000, "batch_size": 32}}
CONTINUOUS = {"sac", "td3"}


def env_for(name: str) -> gym.Env:
    return gym.make("LunarLanding-v0", continuous=name in CONTINUOUS)


def test_every_algorithm_has_a_table_for_lunar_landing_citing_its_source():
    for name in ALGORITHMS:
        table = load_hyperparameters(name, "LunarLanding-v0")
        assert table["policy"] == "MlpPolicy" and table["n_timesteps"] > 0
        header = (HYPERPARAMETER_FOLDER / f"{name}.toml").read_text()
        assert "rl-baselines3-zoo" in header


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_every_table_holds_only_keys_its_algorithm_or_the_run_takes(name):
    import tomllib

    from exgen.agents.sb3 import check_hyperparameters

    tables = tomllib.loads((HYPERPARAMETER_FOLDER / f"{name}.toml").read_text())
    for env_id in tables:
        check_hyperparameters(name, env_id, {})  # raises naming an unknown key


def test_an_unknown_key_in_a_tables_file_is_named(monkeypatch):
    from exgen.agents import sb3

    def load(algorithm, env_id):
        return {"policy": "MlpPolicy", "lane_keeping": 1.0}

    monkeypatch.setattr(sb3, "load_hyperparameters", load)
    with pytest.raises(ValueError, match=r"unknown ppo hyperparameter 'lane_keeping' in "
                                         r"hyperparams/ppo.toml; valid: "):
        sb3.check_hyperparameters("ppo", "CityDriving-v0", {})


def test_tables_become_sb3_arguments():
    sac = make_agent("sac", env_for("sac"), seed=0)
    assert sac.model.learning_rate(1.0) == pytest.approx(7.3e-4)
    assert sac.model.learning_rate(0.5) == pytest.approx(3.65e-4)
    assert sac.model.policy_kwargs["net_arch"] == [256, 256]
    td3 = make_agent("td3", env_for("td3"), seed=0)
    assert isinstance(td3.model.action_noise, OrnsteinUhlenbeckActionNoise)
    ppo = make_agent("ppo", env_for("ppo"), seed=0, n_epochs=2)
    assert (ppo.model.n_steps, ppo.model.n_epochs, ppo.n_envs) == (1024, 2, 16)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_smoke_every_algorithm_learns_a_tiny_budget_and_acts(name):
    env = env_for(name)
    agent = make_agent(name, env, seed=0, **{k: v for k, v in TINY[name].items()
                                            if k != "n_envs"})
    agent.learn(total_timesteps=200)
    assert agent.model.num_timesteps >= 200
    records = run_episodes(agent, env, 1, seed=0, deterministic=True)
    assert records[0].length > 0


def test_agents_stay_on_the_cpu_where_a_gpu_is_offered(monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # SB3's "auto" would pick it
    agent = make_agent("ppo", env_for("ppo"), seed=0, **TINY["ppo"])
    assert agent.model.device.type == "cpu"


def test_episode_budget_stops_training():
    env = env_for("ppo")
    agent = make_agent("ppo", env, seed=0, n_steps=32, batch_size=32)
    agent.learn(total_episodes=2)
    assert agent.model.num_timesteps < 1000


def test_save_load_round_trip_gives_the_same_actions(tmp_path):
    env = env_for("ppo")
    agent = make_agent("ppo", env, seed=0, n_steps=64, batch_size=32)
    agent.learn(total_timesteps=64)
    agent.save(tmp_path / "model")
    loaded = SB3Agent.load(tmp_path / "model.zip", env=env)
    assert loaded.algorithm == "ppo" and loaded.env_id == "LunarLanding-v0"
    observations = [env.reset(seed=s)[0] for s in range(20)]
    for observation in observations:
        a = agent.predict(observation, deterministic=True)[0]
        b = loaded.predict(observation, deterministic=True)[0]
        assert np.array_equal(a, b)


def test_frame_stack_acts_on_the_stack_that_training_sees(tmp_path):
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    agent = make_agent("ppo", env_for("ppo"), seed=0, n_steps=64, batch_size=32, frame_stack=3)
    assert agent.model.observation_space.shape == (3 * env_for("ppo").observation_space.shape[0],)
    agent.learn(total_timesteps=64)
    agent.save(tmp_path / "model")
    loaded = SB3Agent.load(tmp_path / "model.zip", env=env_for("ppo"))
    assert loaded.frame_stack == 3
    venv = VecFrameStack(DummyVecEnv([lambda: env_for("ppo")]), 3)  # as in training
    venv.seed(4)
    stacked = venv.reset()
    plain = env_for("ppo")
    observation, _ = plain.reset(seed=4)
    state, start = None, np.ones(1, bool)
    for _ in range(30):
        action, state = loaded.predict(observation, state, start, deterministic=True)
        start = np.zeros(1, bool)
        assert np.array_equal(state, stacked[0])
        assert action == agent.model.predict(stacked, deterministic=True)[0][0]
        stacked, _, done, _ = venv.step(np.array([action]))
        observation, _, terminated, truncated, _ = plain.step(action)
        assert not done[0] and not (terminated or truncated)
    with pytest.raises(ValueError, match="frame_stack must be a whole number"):
        make_agent("ppo", env_for("ppo"), frame_stack=0)


def test_action_grid_makes_a_discrete_learner_that_acts_in_the_env_space(tmp_path):
    from exgen.agents.sb3 import grid_actions

    grid = [[-1.0, 0.0, 0.5, 1.0], [-1.0, 1.0]]
    actions = grid_actions(grid, env_for("sac").action_space)
    assert actions.tolist() == [[-1, -1], [-1, 1], [0, -1], [0, 1], [0.5, -1], [0.5, 1],
                                [1, -1], [1, 1]]
    agent = make_agent("ppo", env_for("sac"), seed=0, n_steps=64, batch_size=32,
                       action_grid=grid)
    assert agent.model.action_space == gym.spaces.Discrete(8)
    agent.learn(total_timesteps=64)
    agent.save(tmp_path / "model")
    loaded = SB3Agent.load(tmp_path / "model.zip", env=env_for("sac"))
    assert loaded.model.action_space == gym.spaces.Discrete(8)
    env = env_for("sac")
    observation, _ = env.reset(seed=3)
    for _ in range(30):
        action, _ = loaded.predict(observation, deterministic=True)
        index = agent.model.predict(observation, deterministic=True)[0]
        assert np.array_equal(action, actions[index]) and env.action_space.contains(action)
        observation, *_ = env.step(action)
    records = run_episodes(loaded, env_for("sac"), 1, seed=0, deterministic=True)
    assert records[0].length > 0


@pytest.mark.parametrize("grid, message", [
    ([[-1, 1]], "action_grid has 1 value lists; the action space"),
    ([[-1, 2], [0]], r"action_grid\[0\] value 2.0 is outside the action space's bounds"),
    ([[-1, 1], []], r"action_grid\[1\] must be a non-empty list"),
    ([[-1, "x"], [0]], r"action_grid\[0\] must be a non-empty list of finite numbers"),
    ("coarse", "action_grid must be a list of value lists"),
])
def test_bad_action_grids_are_named(grid, message):
    with pytest.raises(ValueError, match=message):
        make_agent("ppo", env_for("sac"), action_grid=grid)


def test_factored_actions_pick_each_dimensions_value_on_its_own(tmp_path):
    grid = [[-1.0, 0.0, 1.0], [-1.0, 0.5]]
    agent = make_agent("ppo", env_for("sac"), seed=0, n_steps=64, batch_size=32,
                       action_grid=grid, factored_actions=True)
    assert agent.model.action_space == gym.spaces.MultiDiscrete([3, 2])
    agent.learn(total_timesteps=64)
    agent.save(tmp_path / "model")
    loaded = SB3Agent.load(tmp_path / "model.zip", env=env_for("sac"))
    assert loaded.model.action_space == gym.spaces.MultiDiscrete([3, 2])
    env = env_for("sac")
    observation, _ = env.reset(seed=3)
    seen = set()
    for _ in range(30):
        action, _ = loaded.predict(observation, deterministic=False)
        steer, pedal = agent.model.predict(observation, deterministic=True)[0]
        assert np.array_equal(loaded.predict(observation, deterministic=True)[0],
                              [grid[0][steer], grid[1][pedal]])
        assert env.action_space.contains(action)
        seen.add(tuple(action.tolist()))
        observation, *_ = env.step(action)
    assert seen <= {(a, b) for a in grid[0] for b in grid[1]} and len(seen) > 1


@pytest.mark.parametrize("table, message", [
    ({"factored_actions": True}, "factored_actions needs an action_grid"),
    ({"factored_actions": "yes", "action_grid": [[-1, 1], [0, 1]]},
     "factored_actions must be true or false"),
])
def test_bad_factored_actions_are_named(table, message):
    with pytest.raises(ValueError, match=message):
        make_agent("ppo", env_for("sac"), **table)


def test_action_grid_needs_a_continuous_env():
    with pytest.raises(ValueError, match="action_grid needs a flat continuous"):
        make_agent("ppo", env_for("ppo"), action_grid=[[-1, 1]])


def test_seeded_training_is_reproducible():
    def parameters(seed: int) -> np.ndarray:
        agent = make_agent("ppo", env_for("ppo"), seed=seed, n_steps=64, batch_size=32)
        agent.learn(total_timesteps=128)
        return np.concatenate([p.detach().numpy().ravel()
                               for p in agent.model.policy.parameters()])

    assert np.array_equal(parameters(1), parameters(1))
    assert not np.array_equal(parameters(1), parameters(2))


def test_budgets_must_be_positive():
    agent = make_agent("ppo", env_for("ppo"), seed=0)
    with pytest.raises(ValueError, match="total_timesteps must be > 0"):
        agent.learn(total_timesteps=0)
    with pytest.raises(ValueError, match="total_episodes must be > 0"):
        agent.learn(total_episodes=-1)


def test_learning_without_a_log_folder_leaves_no_temp_folders(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # SB3 makes SB3-<time> here
    agent = make_agent("ppo", env_for("ppo"), seed=0, **TINY["ppo"])
    agent.learn(total_timesteps=64)
    agent.learn(total_timesteps=64, reset_num_timesteps=False)
    assert list(tmp_path.glob("SB3-*")) == []


def test_a_relearning_dqn_explores_as_it_ended_learning():
    agent = make_agent("dqn", env_for("dqn"), seed=0, **TINY["dqn"])
    final = agent.model.exploration_final_eps
    assert agent.model.exploration_schedule(1.0) > final  # SB3 would start at 1.0 again
    agent.explore_as_learned()
    agent.learn(total_timesteps=64)
    assert agent.model.exploration_rate == final and agent.model.learning_starts == 0
