"""City reports: arrival beside clean arrival and the mean driving score, in the training
context and in every test context, from a hand-made store whose numbers are known."""

import csv
import dataclasses
import re

import numpy as np
import pytest

from exgen.agents.records import EpisodeRecord
from exgen.experiments.report import write_report
from exgen.experiments.scheduler import experiment_key, plan_jobs
from exgen.experiments.statistics import mean_score_ci, success_rate_ci
from exgen.experiments.store import AT_CRITERION, FINAL, ResultsStore
from tests.experiments.test_compare import micro_spec, spec_from_text

SMALL = "grid_columns = 3, grid_rows = 3"
CITY = f"""
name = "fake-city"
env = "CityDriving-v0"
[[agents]]
name = "ppo"
agent = "ppo"
train = [{{ map_seed = 10000, {SMALL} }}]
budget_episodes = 10
[[agents]]
name = "planner"
agent = "planner"
train = [{{ map_seed = 10000, {SMALL} }}]
budget_episodes = 1
[[tests]]
name = "training-city"
context = {{ map_seed = 10000, {SMALL} }}
[[tests]]
name = "unseen"
context = {{ {SMALL} }}
per_instance = "map_seed"
[presets.quick]
seeds = [10000, 10001]
trials = 2
instances = 3
"""
ZERO = {"collision_static": 0, "red_light": 0, "wrong_lane": 0, "off_road": 0}


def first_trials(agent: str, snapshot: str, test: str, seed: int) -> list[tuple]:
    """(arrived, infractions, driving score) of each instance's first trial: a different
    table per job, so that no two rows of the report share their numbers."""
    shift = {"ppo": 0.0, "planner": 0.05}[agent] + {FINAL: 0.0, AT_CRITERION: 0.02}[snapshot]
    shift += {"training-city": 0.0, "unseen": 0.01, "home": 0.03}[test]
    if seed == 10000:
        return [(True, {}, 1.0 - shift),  # clean: arrived, no infraction
                (True, {"red_light": 1}, 0.7 - shift),  # arrived, not clean
                (False, {"collision_static": 1}, 0.26 - shift)]  # a collision
    return [(True, {"wrong_lane": 1}, 0.8 - shift), (True, {}, 1.0 - shift),
            (False, {}, 0.5 - shift)]  # a time-out half way


def record(episode: int, seed: int, arrived: bool, infractions: dict, score: float | None,
           map_seed: int = 10000) -> EpisodeRecord:
    return EpisodeRecord(episode=episode, total_steps=100, episode_return=0.0, length=100,
                  is_success=arrived, outcome="arrived" if arrived else "collision",
                  wall_time=0.1, agent="", seed=seed,
                  context={"map_seed": map_seed, "grid_columns": 3, "grid_rows": 3},
                  infractions={**ZERO, **infractions}, driving_score=score)


def fake_store(spec, path, scored: bool = True):
    """Every job of ``spec`` done: criterion met at episode 5, first trials as in
    ``first_trials``, second trials all clean arrivals scoring 1 (they must not count)."""
    store = ResultsStore(path)
    key = experiment_key(spec)
    store.record_experiment(key, {"name": spec.name}, "v0")
    store.add_jobs(key, plan_jobs(spec))
    for job in plan_jobs(spec):
        if job.kind == "learn":
            records = [record(i, job.seed, i >= 5, {}, None) for i in range(10)]
            store.finish_job(job.job_id, [dataclasses.replace(r, agent=job.agent)
                                          for r in records],
                             summary={"episodes": 10, "criterion": {"met": {"episodes": 5}}})
            continue
        test = job.test_context or "home"
        table = first_trials(job.agent, job.snapshot, test, job.seed)
        records, instances = [], []
        for i, (arrived, infractions, score) in enumerate(table):
            map_seed = 1_000_000 + i if test == "unseen" else 10000
            trials = [record(i * spec.trials, job.seed, arrived, infractions, score, map_seed)]
            if job.kind == "transfer":
                trials.append(record(i * spec.trials + 1, job.seed, True, {}, 1.0, map_seed))
            elif job.kind == "training-context":
                trials[0] = dataclasses.replace(trials[0], episode=i)
            for r in trials:
                records.append(dataclasses.replace(
                    r, agent=job.agent, driving_score=r.driving_score if scored else None))
                instances.append(i)
        store.finish_job(job.job_id, records, instances)
    store.close()
    return path


def row(text: str, start: str) -> list[str]:
    """The cells of the first Markdown table row that starts with ``start`` (the table
    "Per seed" comes after the others)."""
    line = next(line for line in text.splitlines() if line.startswith(start + " |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def by_hand(agent: str, snapshot: str, test: str) -> tuple[float, float, float]:
    """Arrival, clean arrival and mean driving score: per seed over its instances, then
    the mean over the seeds."""
    tables = [first_trials(agent, snapshot, test, seed) for seed in (10000, 10001)]
    arrival = np.mean([np.mean([a for a, _, _ in t]) for t in tables])
    clean = np.mean([np.mean([a and not any(inf.values()) for a, inf, _ in t]) for t in tables])
    score = np.mean([np.mean([s for _, _, s in t]) for t in tables])
    return float(arrival), float(clean), float(score)


def intervals(agent: str, snapshot: str, test: str) -> tuple[str, str, str]:
    tables = {seed: first_trials(agent, snapshot, test, seed) for seed in (10000, 10001)}
    return (str(success_rate_ci({s: [a for a, _, _ in t] for s, t in tables.items()},
                                shared_instances=True)),
            str(success_rate_ci({s: [a and not any(i.values()) for a, i, _ in t]
                                 for s, t in tables.items()}, shared_instances=True)),
            str(mean_score_ci({s: [x for _, _, x in t] for s, t in tables.items()},
                              shared_instances=True)))


@pytest.fixture(scope="module")
def city_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("city")
    spec = spec_from_text(folder, CITY)
    report = write_report(spec, fake_store(spec, folder / "results.sqlite"),
                          folder / "report", gifs=False)
    return spec, report


def test_the_hand_computed_numbers_are_what_the_fixture_says():
    assert by_hand("ppo", FINAL, "training-city") == pytest.approx(
        (2 / 3, 1 / 3, ((1.0 + 0.7 + 0.26) / 3 + (0.8 + 1.0 + 0.5) / 3) / 2))


def test_every_city_table_has_arrival_clean_arrival_and_the_driving_score(city_report):
    _, report = city_report
    text = report.read_text()
    assert ("| agent | test | label | first-trial arrival | arrival within 2 trials | trials "
            "to first arrival | first-trial clean arrival | first-trial driving score (mean) |"
            ) in text
    expected = {("ppo (fully trained)", FINAL), ("ppo (at criterion)", AT_CRITERION),
                ("planner", FINAL)}
    for name, snapshot in expected:
        agent = name.split()[0]
        for test in ("training-city", "unseen"):
            cells = row(text, f"| {name} | {test}")
            arrival, clean, score = by_hand(agent, snapshot, test)
            assert [float(c.split()[0]) for c in (cells[3], cells[6], cells[7])] == [
                round(arrival, 2), round(clean, 2), round(score, 2)]
            assert (cells[3], cells[6], cells[7]) == intervals(agent, snapshot, test)
            assert cells[4].startswith("1.00")  # the second trials all arrived
    # 0.71 by hand: seed 10000 (1 + 0.7 + 0.26) / 3, seed 10001 (0.8 + 1 + 0.5) / 3.
    assert row(text, "| ppo (fully trained) | training-city")[7].startswith("0.71 [")
    assert row(text, "| ppo (fully trained) | training-city")[6].startswith("0.33 [")


def test_the_training_context_table_holds_the_fresh_episodes(city_report):
    _, report = city_report
    text = report.read_text()
    assert "| agent | instances per seed | arrival | clean arrival | driving score (mean) |" in text
    for agent in ("ppo", "planner"):
        cells = row(text, f"| {agent} | 3")
        assert tuple(cells[2:]) == intervals(agent, FINAL, "home")
    assert row(text, "| ppo | 3")[4].startswith("0.68 [")  # 0.71 - 0.03
    assert "two-level bootstrap of the mean" in text and "*clean* arrival" in text
    assert "not recorded" not in text


def test_the_csv_tables_hold_clean_arrival_and_the_driving_score(city_report):
    _, report = city_report
    with (report.parent / "tables" / "transfer.csv").open(encoding="utf-8") as file:
        transfer = {(r["agent"], r["snapshot"], r["test"]): r for r in csv.DictReader(file)}
    found = transfer[("ppo", "at criterion", "unseen")]
    _, clean, score = by_hand("ppo", AT_CRITERION, "unseen")
    assert float(found["clean_arrival"]) == pytest.approx(clean)
    assert float(found["driving_score"]) == pytest.approx(score)
    assert float(found["driving_score_low"]) < score < float(found["driving_score_high"])
    assert "bootstrap of the mean" in found["driving_score_method"]
    with (report.parent / "tables" / "training_context.csv").open(encoding="utf-8") as file:
        home = {r["agent"]: r for r in csv.DictReader(file)}
    assert float(home["planner"]["driving_score"]) == pytest.approx(
        by_hand("planner", FINAL, "home")[2])


def test_a_store_without_driving_scores_says_they_were_not_recorded(tmp_path):
    spec = spec_from_text(tmp_path, CITY)
    report = write_report(spec, fake_store(spec, tmp_path / "r.sqlite", scored=False),
                          tmp_path / "report", gifs=False)
    text = report.read_text()
    cells = row(text, "| ppo (fully trained) | unseen")
    assert cells[7] == "not recorded" and cells[6].startswith("0.33 [")
    assert row(text, "| planner | 3")[4] == "not recorded"
    assert "did not record `info[\"driving_score\"]`" in text
    assert "bootstrap of the mean" not in text  # no score, no interval of one


def test_a_lander_report_has_no_city_columns(tmp_path):
    from exgen.experiments.scheduler import run_experiment

    spec = micro_spec(tmp_path)
    spec = dataclasses.replace(spec, agents=spec.agents[:1], tests=spec.tests[:1])
    report = write_report(spec, run_experiment(spec, tmp_path / "out", workers=1),
                          tmp_path / "out" / "report", gifs=False)
    text = report.read_text()
    assert ("| agent | test | label | first trial | within 2 trials | trials to first "
            "success |\n| --- | --- | --- | --- | --- | --- |\n") in text
    assert not re.search(r"clean|driving score|arrival|Training context", text)
    tables = report.parent / "tables"
    assert not (tables / "training_context.csv").exists()
    with (tables / "transfer.csv").open(encoding="utf-8") as file:
        assert next(csv.reader(file)) == [
            "agent", "snapshot", "test", "label", "first_trial", "first_trial_low",
            "first_trial_high", "within_trials", "within_low", "within_high",
            "interval_method", "trials_to_first_success"]
