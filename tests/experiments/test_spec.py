import pytest

from exgen.experiments.spec import SpecError, load_spec, parse_spec

VALID = {
    "name": "micro", "env": "LunarLanding-v0",
    "agents": [{"name": "random", "agent": "random", "train": [{"gravity": 9.81}],
                "budget_episodes": 2}],
    "tests": [{"name": "moon", "context": {"preset": "moon"}}],
    "presets": {"quick": {"seeds": [10000], "trials": 2, "instances": 2}},
}


def changed(path: str, value):
    data = {**VALID, "agents": [dict(VALID["agents"][0])], "tests": [dict(VALID["tests"][0])],
            "presets": {"quick": dict(VALID["presets"]["quick"])}}
    target = data
    *parents, last = path.split(".")
    for key in parents:
        target = target[key] if not key.isdigit() else target[int(key)]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return data


def test_the_built_in_spec_loads_at_both_presets():
    quick, full = load_spec("gravity-shift"), load_spec("gravity-shift", "full")
    assert len(full.tests) == 18 and len(full.seeds) == 5
    assert {a.name for a in full.agents} == {"ppo", "dqn", "planner", "ppo-randomized",
                                             "ppo-context-aware", "mbrl"}
    assert {a.name for a in quick.agents} == {"ppo", "planner"}  # make demo stays short
    assert {t.name for t in quick.tests} < {t.name for t in full.tests}
    assert all(quick.instances_of(t) >= 20 for t in quick.tests)  # the protocol's floor
    assert quick.budget_of(quick.agents[-1]) == (None, 3)


@pytest.mark.parametrize(("path", "value", "match"), [
    ("name", KeyError, "missing field 'name'"),
    ("colour", "red", "unknown field 'colour'"),
    ("presets.quick.seeds", [5], "training seeds in 10000..999999, got 5"),
    ("presets.quick.seeds", [], "non-empty list of ints"),
    ("presets.quick.trials", 0, "trials must be a positive int"),
    ("presets.quick.agents", ["ghost"], "unknown agent 'ghost'"),
    ("agents.0.train", [], "train must be a non-empty list"),
    ("agents.0.speed", 3, r"agents\[0\]: unknown field 'speed'"),
    ("tests", [], "tests must not be empty"),
    ("presets.quick.tests", ["mars"], "tests names unknown test 'mars'"),
    ("presets.quick.test_instances", {"mars": 100}, "test_instances names unknown test 'mars'"),
    ("presets.quick.test_instances", {"moon": 0}, "test_instances.moon must be a positive int"),
    ("agents.0.train", [{"gravty": 3.0}], "agents 'random' train: .*'gravty'"),
    ("agents.0.train", [{"gravity": -3.0}], "agents 'random' train: .*gravity"),
    ("tests.0.context", {"preset": "vulcan"}, "tests 'moon' context: .*vulcan"),
    ("tests.0.per_instance", 3, "per_instance must be a context field name"),
    ("tests.0.per_instance", "preset", "context sets 'preset'"),
    ("env", "Lunar-v9", "unknown env 'Lunar-v9'"),
    ("gallery_test", "mars", "gallery_test names unknown test 'mars'"),
    ("agents.0.interface", {"gravity": 3.0}, r"interface: unknown field 'gravity'"),
    ("agents.0.interface", {"continuous": "yes"}, "interface.continuous must be true or false"),
    # The lander's interface is its own: the city's arguments are unknown to it.
    ("agents.0.interface", {"observe_route": True},
     r"interface: unknown field 'observe_route'; valid: continuous, observe_context, "
     r"observe_fuel$"),
    ("env", "Lunar-v9", "registered: LunarLanding-v0, CityDriving-v0$"),
    ("agents.0.agent", "nope", r"agents 'random'.agent: unknown agent 'nope'; valid: ppo"),
    ("presets.quick.stop_at_criterion", "yes",
     r"presets.quick.stop_at_criterion must be true or false, got 'yes'"),
    ("presets.quick.stop_at_criterion", 1, "stop_at_criterion must be true or false, got 1"),
    ("presets.quick.train_instances", 0, "train_instances must be a positive int, got 0"),
    ("presets.quick.train_instances", 2.5, "train_instances must be a positive int, got 2.5"),
    ("presets.quick.train_instances", True, "train_instances must be a positive int"),
    ("presets.quick.relearn_budget_steps", 0, "relearn_budget_steps must be a positive int"),
    ("agents.0.vec_env", "threads", r"vec_env must be one of dummy, subproc, batched"),
    ("agents.0.vec_env", "batched", r"vec_env: 'batched' trains SB3 agents"),
])
def test_bad_specs_name_the_field(path, value, match):
    with pytest.raises(SpecError, match=match):
        parse_spec(changed(path, value), "quick")


@pytest.mark.parametrize(("hyperparameters", "match"), [
    ({"learning_rat": 1e-3}, "unknown ppo hyperparameter 'learning_rat'; valid: "),
    ({"headway_penalty": 0.5}, "unknown ppo hyperparameter 'headway_penalty'"),
    ({"give_up_on_infraction": True}, "give_up_on_infraction needs an env that counts"),
    ({"action_grid": [[0.0, 1.0], [1.0], [0.0]]}, "action_grid"),  # the lander has 2
    ({"factored_actions": True}, "factored_actions needs an action_grid"),
])
def test_an_agents_bad_hyperparameter_fails_at_load(hyperparameters, match):
    data = changed("agents.0.agent", "ppo")
    data["agents"][0]["hyperparameters"] = hyperparameters
    data["agents"][0]["interface"] = {"continuous": True}
    with pytest.raises(SpecError, match=r"agents 'random'.hyperparameters: " + match):
        parse_spec(data, "quick")
    data["agents"][0]["hyperparameters"] = {"learning_rate": 1e-3}
    assert parse_spec(data, "quick").agents[0].hyperparameters == {"learning_rate": 1e-3}


def test_an_agent_interface_takes_the_arguments_its_world_declares():
    data = changed("agents.0.interface", {"observe_fuel": True, "continuous": True})
    assert parse_spec(data, "quick").agents[0].interface == {"observe_fuel": True,
                                                             "continuous": True}


def test_unknown_preset_and_spec_names():
    with pytest.raises(SpecError, match="unknown preset 'huge'; presets: quick"):
        parse_spec(VALID, "huge")
    with pytest.raises(SpecError, match="unknown spec 'nope'; built-in: gravity-shift, "
                                        "new-city"):
        load_spec("nope")


def test_the_city_spec_tests_unseen_cities_per_instance():
    quick, full = load_spec("new-city"), load_spec("new-city", "full")
    assert {a.name for a in full.agents} == {"ppo-1-city", "ppo-20-cities", "planner"}
    twenty = next(a for a in full.agents if a.name == "ppo-20-cities").train[0]["map_seed"]
    assert len(set(twenty)) == 20 and 10_000 in twenty
    unseen = next(t for t in full.tests if t.name == "unseen-cities")
    assert unseen.per_instance == "map_seed" and full.instances_of(unseen) == 100
    assert {t.name for t in full.tests} >= {"ice", "left-hand", "double-traffic", "downtown",
                                            "riverside", "ring"}
    assert len(quick.tests) < len(full.tests)
    assert all(quick.instances_of(t) >= 20 for t in quick.tests)  # the protocol's floor


def test_gravity_shift_learns_mbrl_to_an_episode_budget_as_a_learning_agent():
    from exgen.experiments.scheduler import plan_jobs

    full = load_spec("gravity-shift", "full")
    names = [a.name for a in full.agents]
    mbrl = full.agents[names.index("mbrl")]
    assert names.index("ppo-context-aware") < names.index("mbrl") < names.index("planner")
    assert mbrl.agent == "mbrl" and mbrl.train == ({"gravity": 9.81},)
    assert full.budget_of(mbrl) == (None, 400) and full.eval_every_of(mbrl) == 5000
    jobs = [j.job_id for j in plan_jobs(full) if "mbrl" in j.job_id]
    assert len(jobs) == 5 * (1 + 18 * 2 + 1 + 3)  # learn, transfer x 2, home, relearn
    assert "transfer/mbrl@criterion/10000/moon" in jobs and "relearn/mbrl/10004/g20" in jobs


def test_an_agent_may_set_its_own_evaluation_interval():
    spec = parse_spec(VALID, "quick")
    assert spec.eval_every_of(spec.agents[0]) == 1  # an episode budget: every episode
    assert "eval_every_steps" not in spec.to_dict()["agents"][0]  # old stores still match
    data = changed("agents.0.eval_every_steps", 500)
    spec = parse_spec(data, "quick")
    assert spec.eval_every_of(spec.agents[0]) == 500
    assert spec.to_dict()["agents"][0]["eval_every_steps"] == 500
    with pytest.raises(SpecError, match="eval_every_steps must be a positive int"):
        parse_spec(changed("agents.0.eval_every_steps", 0), "quick")


def test_protocol_v2_preset_keys_and_their_defaults():
    spec = parse_spec(VALID, "quick")
    assert spec.stop_at_criterion is False and spec.train_instances == spec.instances == 2
    data = changed("presets.quick.stop_at_criterion", True)
    data["presets"]["quick"]["train_instances"] = 100
    spec = parse_spec(data, "quick")
    assert spec.stop_at_criterion is True and spec.train_instances == 100


def test_relearning_may_have_a_smaller_budget_than_learning():
    spec = parse_spec(VALID, "quick")
    agent = spec.agents[0]
    assert spec.relearn_budget_of(agent) == spec.budget_of(agent)
    assert "relearn_budget_steps" not in spec.to_dict()  # old stores still match
    spec = parse_spec(changed("presets.quick.relearn_budget_steps", 5000), "quick")
    assert spec.relearn_budget_of(agent) == (5000, spec.budget_of(agent)[1])
    assert spec.to_dict()["relearn_budget_steps"] == 5000
    data = changed("presets.quick.relearn_budget_steps", 10**9)
    data["presets"]["quick"]["budget_steps"] = 2000
    data["agents"][0].pop("budget_episodes", None)
    spec = parse_spec(data, "quick")
    assert spec.relearn_budget_of(spec.agents[0])[0] == 2000  # never above learning's


@pytest.mark.parametrize("name", ["gravity-shift", "new-city"])
def test_built_in_specs_follow_protocol_v2(name):
    from exgen.agents.sb3 import ALGORITHMS

    quick, full = load_spec(name), load_spec(name, "full")
    assert quick.stop_at_criterion and quick.train_instances == 20  # make demo stays short
    assert not full.stop_at_criterion and full.train_instances >= 100
    assert any(a.agent in ALGORITHMS for a in full.agents) and len(full.seeds) >= 5


def test_an_agent_may_train_on_the_batched_city_which_the_experiment_does_not_record():
    data = changed("agents.0.agent", "ppo")
    data["agents"][0]["vec_env"] = "batched"
    with pytest.raises(SpecError, match="vec_env: vec_env 'batched' runs CityDriving-v0 "
                                        "only, not LunarLanding-v0"):
        parse_spec(data, "quick")
    data.update(env="CityDriving-v0", tests=[{"name": "ice", "context": {"preset": "ice"}}])
    data["agents"][0]["train"] = [{"map_seed": 3}]
    spec = parse_spec(data, "quick")
    assert spec.agents[0].vec_env == "batched"
    assert "vec_env" not in spec.to_dict()["agents"][0]  # the same episodes either way
    data["agents"][0]["train"] = [{"map_seed": 3}, {"map_seed": 4}]
    with pytest.raises(SpecError, match="cannot train on a mixture of contexts"):
        parse_spec(data, "quick")
