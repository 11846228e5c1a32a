"""A micro city experiment: unseen cities per instance, infraction counts, labels."""

import json

from exgen.experiments.report import write_report
from exgen.experiments.scheduler import run_experiment
from exgen.experiments.store import ResultsStore
from tests.experiments.test_compare import spec_from_text

SMALL = "grid_columns = 3, grid_rows = 3"
MICRO_CITY = f"""
name = "micro-city"
env = "CityDriving-v0"
[[agents]]
name = "planner"
agent = "planner"
train = [{{ map_seed = 10000, {SMALL} }}]
budget_episodes = 1
[[agents]]
name = "random"
agent = "random"
train = [{{ map_seed = [10000, 10001], {SMALL} }}]
interface = {{ continuous = false }}
budget_episodes = 1
[[tests]]
name = "training-city"
context = {{ map_seed = 10000, {SMALL} }}
[[tests]]
name = "second-city"
context = {{ map_seed = 10001, {SMALL} }}
[[tests]]
name = "unseen"
context = {{ {SMALL} }}
per_instance = "map_seed"
[presets.quick]
seeds = [10000]
trials = 2
instances = 1
test_instances = {{ unseen = 2 }}
"""


def test_unseen_cities_are_new_per_instance_and_kept_over_its_trials(tmp_path):
    spec = spec_from_text(tmp_path, MICRO_CITY)
    store_path = run_experiment(spec, tmp_path / "out", workers=2)
    with ResultsStore(store_path) as store:
        assert {j["status"] for j in store.jobs("micro-city:quick")} == {"done"}
        unseen = [e for e in store.episodes("micro-city:quick", kind="transfer")
                  if e["job_id"].endswith("/unseen")]
        assert len(unseen) == 2 * 2 * 2  # agents x instances x trials
        maps = {(e["agent"], e["instance"]): set() for e in unseen}
        for e in unseen:
            maps[(e["agent"], e["instance"])].add(e["context"]["map_seed"])
        assert all(len(seeds) == 1 for seeds in maps.values())  # one city per instance
        first, second = maps[("planner", 0)].pop(), maps[("planner", 1)].pop()
        assert first != second and min(first, second) >= 1_000_000
        assert all(set(e["infractions"]) >= {"red_light", "off_road", "collision_static"}
                   for e in unseen)
        # The random agent meets every context through its interface: discrete actions.
        assert {e["context"]["continuous"] for e in unseen if e["agent"] == "random"} == {False}
        assert {e["context"]["continuous"] for e in unseen if e["agent"] == "planner"} == {True}
    report = write_report(spec, store_path, tmp_path / "out" / "report")
    text = report.read_text()
    assert "| planner | training-city | interpolation |" in text
    assert "| planner | unseen | extrapolation |" in text
    # Both cities of the random agent's two-city training set are ones it trained in.
    assert "| random | training-city | interpolation |" in text
    assert "| random | second-city | interpolation |" in text
    assert "| planner | second-city | extrapolation |" in text
    assert (report.parent / "figures" / "success_and_infractions.png").exists()
    summary = json.loads((tmp_path / "out" / "held_out_seed.json").read_text())
    assert summary["held_out_seed"] in (first, second)
