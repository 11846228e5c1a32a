"""What each agent sees and how it acts: read off the real envs of every built-in spec."""

import pytest

from exgen.agents.public_view import PublicView
from exgen.envs.city import public as city
from exgen.envs.lunar import public as lunar
from exgen.envs.mixture import make_env
from exgen.experiments import report
from exgen.experiments.interfaces import describe_agents, published_at_reset
from exgen.experiments.scheduler import agent_env_kwargs
from exgen.experiments.spec import SPEC_FOLDER, load_spec
from tests.experiments.test_compare import spec_from_text

SPECS = [(path.stem, preset) for path in sorted(SPEC_FOLDER.glob("*.toml"))
         for preset in ("quick", "full")]


@pytest.mark.parametrize(("name", "preset"), SPECS)
def test_every_built_in_spec_describes_each_agent_as_its_env_is(name, preset):
    spec = load_spec(name, preset)
    described = describe_agents(spec)
    assert [d.agent for d in described] == [a.name for a in spec.agents]
    for agent, d in zip(spec.agents, described, strict=True):
        env = PublicView(make_env(spec.env, **agent_env_kwargs(agent, dict(agent.train[0]))))
        assert d.observation_size == env.observation_space.shape[0]
        assert d.observes.startswith(f"{d.observation_size} floats: ")
        assert d.acts.startswith(d.action_space)
        assert str(env.action_space.n if hasattr(env.action_space, "n")
                   else env.action_space.shape[0]) in d.action_space
        assert bool(d.context_observed) == agent.observe_context
        env.close()


def test_new_city_ppo_agents_share_one_interface_and_the_planner_reads_the_map():
    spec = load_spec("new-city", "full")
    rows = {d.agent: d for d in describe_agents(spec)}
    one, twenty, planner = rows["ppo-1-city"], rows["ppo-20-cities"], rows["planner"]
    # The same interface for every RL agent: the route and the car ahead, discrete actions.
    size = city.observation_size(32, observe_route=True, observe_lead=True)
    assert one.observation_size == twenty.observation_size == size == 58
    assert one.observes.endswith("+ car ahead (distance, rate)")
    assert one.observes == twenty.observes and one.acts == twenty.acts
    assert one.action_space == "Discrete(9)"
    assert "steer {right, straight, left} x pedal {brake, coast, throttle}" in one.acts
    assert "lidar (32 rays, 50 m)" in one.observes
    assert f"+ route ahead ({', '.join(city.ROUTE_OBSERVATION)})" in one.observes
    assert "turn (left, straight, right, u, distance)" in one.observes
    # The hidden context: no agent is told friction, speed limit or driving side.
    for row in rows.values():
        assert row.context_observed == ()
        assert not any(field in row.observes for field in city.CONTEXT_OBSERVATION_FIELDS)
    assert one.reads_at_reset == twenty.reads_at_reset == ()
    # The planner: the default interface (continuous, no route) and the published map.
    assert planner.observation_size == city.observation_size(32) == 52
    assert "route ahead" not in planner.observes
    assert planner.action_space == "Box(2) in [-1, 1]"
    assert "steer (> 0 turns left), pedal" in planner.acts
    assert planner.reads_at_reset == ("map",) == published_at_reset(spec.env)
    assert one.learns == "a route-completion reward (learner only); 30,000,000 env steps"
    assert planner.learns.endswith("; 3 episodes")


def test_gravity_shift_rows_show_who_observes_the_context():
    spec = load_spec("gravity-shift", "full")
    rows = {d.agent: d for d in describe_agents(spec)}
    assert set(rows) == {"ppo", "dqn", "ppo-randomized", "ppo-context-aware", "mbrl",
                         "planner"}
    for name in ("ppo", "dqn", "ppo-randomized", "mbrl", "planner"):
        assert rows[name].observation_size == 8
        assert rows[name].context_observed == ()
        assert rows[name].observes.startswith("8 floats: x, y (from the pad), vx, vy, tilt")
        assert rows[name].action_space == "Discrete(4)"
        assert lunar.ACTION_MEANINGS[lunar.FIRE_MAIN].split(":")[0] in rows[name].acts
        assert rows[name].reads_at_reset == ()  # the lunar world publishes no terrain
    aware = rows["ppo-context-aware"]
    assert aware.context_observed == lunar.CONTEXT_OBSERVATION_FIELDS
    assert aware.observation_size == 8 + len(lunar.CONTEXT_OBSERVATION_FIELDS) == 16
    assert "+ context (gravity, main_engine_thrust" in aware.observes
    assert rows["dqn"].learns == "the env's reward; 600,000 env steps"
    assert rows["mbrl"].learns == "its own episodes; 400 episodes"
    assert published_at_reset(spec.env) == ()


def _city_spec(folder, agents_text: str):
    """A city spec of ``agents_text`` (its name, env and agents) with one test context in
    the training city and a quick preset."""
    return spec_from_text(folder, agents_text + """[[tests]]
name = "home"
context = { map_seed = 10000 }
[presets.quick]
seeds = [10000]
budget_episodes = 5
""")


def test_other_interfaces_raster_continuous_frames_and_grid(tmp_path):
    text = """
name = "interfaces"
env = "CityDriving-v0"
[[agents]]
name = "seer"
agent = "random"
train = [{ map_seed = 10000 }]
interface = { observe_raster = true }
observe_context = true
[[agents]]
name = "gridded"
agent = "ppo"
train = [{ map_seed = 10000 }]
hyperparameters = { frame_stack = 4, action_grid = [[-1, 0, 1], [-1, 0, 0.5, 1]] }
"""
    seer, gridded = describe_agents(_city_spec(tmp_path, text))
    assert seer.observation_size == city.observation_size(32, observe_context=True)
    assert seer.context_observed == city.CONTEXT_OBSERVATION_FIELDS
    assert "+ context (friction, speed_limit_mps, lane_width_m, driving_side)" in seer.observes
    assert "+ raster 64 x 64 cells of 1 m around the car (road, cars, pedestrians, lights)" \
        in seer.observes
    assert seer.learns == "nothing (uniform random actions); 5 episodes"
    assert "the last 4 observations stacked" in gridded.observes
    assert gridded.action_space == "Box(2) in [-1, 1]"
    assert gridded.acts.endswith("its policy picks one of 12 grid actions (Discrete(12))")


def test_an_agent_that_observes_the_road_users_and_the_route(tmp_path):
    text = """
name = "road-users"
env = "CityDriving-v0"
[[agents]]
name = "users"
agent = "random"
train = [{ map_seed = 10000 }]
interface = { observe_road_users = true, observe_route = true, continuous = false }
"""
    users, = describe_agents(_city_spec(tmp_path, text))
    size = city.observation_size(32, observe_route=True, observe_road_users=True)
    assert users.observation_size == size == 56 + 64
    assert "lidar (32 rays, 50 m)" in users.observes
    assert users.observes.endswith(
        f"+ route ahead ({', '.join(city.ROUTE_OBSERVATION)}), "
        f"+ road users (32 rays: distance, rate)")
    assert "road user" not in users.observes.split("+ route")[0]


def test_the_car_ahead_is_described_after_the_road_users(tmp_path):
    text = """
name = "lead"
env = "CityDriving-v0"
[[agents]]
name = "lead"
agent = "random"
train = [{ map_seed = 10000 }]
interface = { observe_lead = true, observe_route = true, continuous = false }
"""
    lead, = describe_agents(_city_spec(tmp_path, text))
    assert lead.observation_size == city.observation_size(32, observe_route=True,
                                                          observe_lead=True) == 56 + 2
    assert lead.observes.endswith(
        f"+ route ahead ({', '.join(city.ROUTE_OBSERVATION)}), + car ahead (distance, rate)")


def test_the_report_states_the_interfaces_right_after_the_headline():
    spec = load_spec("new-city", "quick")
    text = report._markdown(spec, {}, [], {}, [], [], {}, {})
    headline = text.index("## Headline")
    section = text.index("## What each agent sees and how it acts")
    assert headline < section < text.index("## Transfer")
    assert 'at a reset the world also publishes `info["map"]`' in text
    assert "| planner | planner | 52 floats: speed, steering," in text
    assert "| hidden (not observed) | the published `map` | Box(2) in [-1, 1]" in text
    rows = [line for line in text.splitlines() if line.startswith("| ppo-")]
    assert len(rows) == 2 and all("| 58 floats:" in r and "| Discrete(9):" in r for r in rows)
    assert "The RL agents (ppo-1-city, ppo-20-cities) share one interface." in text


def test_the_report_names_the_rl_agent_whose_interface_differs():
    text = report._markdown(load_spec("gravity-shift", "full"), {}, [], {}, [], [], {}, {})
    assert "The RL agents share one interface but for ppo-context-aware (see its row)." in text
    assert ("| ppo-context-aware | ppo | 16 floats: x, y (from the pad), vx, vy, tilt, angular "
            "velocity, left leg contact, right leg contact, + context (gravity,") in text
    assert text.count("| hidden (not observed) |") == 5  # all but ppo-context-aware
