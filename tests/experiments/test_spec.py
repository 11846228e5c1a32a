import pytest

from experiments.spec import SpecError, load_spec, parse_spec

VALID = {
    "name": "micro", "env": "LunarLanding-v0",
    "agents": [{"name": "random", "agent": "random", "train": [{"gravity": 9.81}],
                "budget_episodes": 2}],
    "tests": [{"name": "moon", "context": {"preset": "moon"}}],
    "presets": {"quick": {"seeds": [10000], "trials": 2, "instances": 2}},
}


def changed(path: str, value):
    data = {**VALID, "agents": [dict(VALID["agents"][0])],
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
    assert len(quick.tests) == 18 and len(full.seeds) == 5
    assert {a.name for a in quick.agents} >= {"ppo", "dqn", "planner", "ppo-randomized",
                                               "ppo-context-aware"}
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
])
def test_bad_specs_name_the_field(path, value, match):
    with pytest.raises(SpecError, match=match):
        parse_spec(changed(path, value), "quick")


def test_unknown_preset_and_spec_names():
    with pytest.raises(SpecError, match="unknown preset 'huge'; presets: quick"):
        parse_spec(VALID, "huge")
    with pytest.raises(SpecError, match="unknown spec 'nope'; built-in: gravity-shift"):
        load_spec("nope")
