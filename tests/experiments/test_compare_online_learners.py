"""``exgen compare`` with an online agent that learns and saves (``mbrl`` at its smallest)
under protocol v2: it learns to its budget with a snapshot at the criterion and one at
the end, transfers from each learning between trials, relearns from the final one, and
plays its training context with learning frozen."""

import json
import os
import pickle

import pytest

from exgen.agents.model_based import ModelBasedAgent
from exgen.experiments.report import write_report
from exgen.experiments.scheduler import (
    WORKER_THREADS,
    _one_thread_per_worker,
    _work,
    plan_jobs,
)
from exgen.experiments.store import ResultsStore
from tests.experiments.test_compare import run_once, spec_from_text

# No engines, a weak gravity, a low start: every lander settles on the pad whatever mbrl
# does (about 150 steps), so it meets the criterion at its first evaluation (after its
# second episode) and learns on to its budget of 3; in "drift" its final model meets it
# before relearning.
ONLINE = """
name = "online"
env = "LunarLanding-v0"
[[agents]]
name = "mbrl"
agent = "mbrl"
budget_episodes = 3
eval_every_steps = 200
hyperparameters = { members = 2, hidden = 8, layers = 1, horizon = 2, population = 8, \
elites = 2, iterations = 1, train_steps = 5, batch_size = 16, capacity = 4000, \
random_episodes = 1 }
[[agents.train]]
gravity = 2.0
initial_height = 2.0
initial_velocity_spread = 0.0
main_engine_thrust = 0.0
side_engine_thrust = 0.0
[[tests]]
name = "drift"
context = { gravity = 1.5, initial_height = 2.0, initial_velocity_spread = 0.0, \
main_engine_thrust = 0.0, side_engine_thrust = 0.0 }
[presets.quick]
seeds = [10000]
trials = 2
instances = 2
train_instances = 2
relearn = ["drift"]
"""
KEY = "online:quick"


@pytest.fixture(scope="module")
def online_run(tmp_path_factory):
    """The ONLINE experiment, run once for the tests below: (spec, out folder)."""
    return run_once(tmp_path_factory, ONLINE, "online", workers=1)


def episodes_of(path) -> int:
    """The learning episodes a pickled mbrl agent has behind it."""
    with path.open("rb") as file:
        return pickle.load(file).episodes


def test_an_online_learner_gets_both_snapshots_and_relearning(tmp_path):
    spec = spec_from_text(tmp_path, ONLINE)
    assert [j.job_id for j in plan_jobs(spec)] == [
        "learn/mbrl/10000", "transfer/mbrl/10000/drift", "transfer/mbrl@criterion/10000/drift",
        "training-context/mbrl/10000", "relearn/mbrl/10000/drift"]
    assert spec.eval_every_of(spec.agents[0]) == 200


def test_it_learns_to_the_budget_and_keeps_both_snapshots(online_run):
    _, out = online_run
    run = out / "runs" / "mbrl" / "10000"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["episodes"] == 3 and summary["criterion"]["met"]["episodes"] == 2
    assert episodes_of(run / "criterion_model.pkl") == 2
    assert episodes_of(run / "model.pkl") == 3
    with ResultsStore(out / "results.sqlite") as store:
        jobs = {j["job_id"]: j for j in store.jobs(KEY)}
        assert {j["status"] for j in jobs.values()} == {"done"}
        assert jobs["transfer/mbrl@criterion/10000/drift"]["snapshot"] == "criterion"
        assert jobs["transfer/mbrl/10000/drift"]["snapshot"] == "final"
        transfer = store.episodes(KEY, kind="transfer")
        home = store.episodes(KEY, kind="training-context")
    by_snapshot = {s: [(e["instance"], e["episode"]) for e in transfer if e["snapshot"] == s]
                   for s in ("final", "criterion")}
    assert by_snapshot["final"] == by_snapshot["criterion"] == [(0, 0), (0, 1), (1, 2), (1, 3)]
    assert [e["instance"] for e in home] == [0, 1] and all(e["success"] for e in home)


def test_it_relearns_from_the_fully_trained_model(online_run):
    _, out = online_run
    relearned = out / "relearn" / "mbrl" / "10000" / "drift"
    final = out / "runs" / "mbrl" / "10000" / "model.pkl"
    assert f"relearning from {final}" in (relearned / "run.log").read_text()
    with ResultsStore(out / "results.sqlite") as store:
        episodes = store.episodes(KEY, kind="relearn")
        (job,) = [j for j in store.jobs(KEY) if j["kind"] == "relearn"]
    # The final model meets the criterion in "drift" as it is: evaluated before any
    # relearning, it costs no episode there.
    assert episodes == []
    assert json.loads(job["summary"])["criterion"]["met"]["episodes"] == 0
    assert "eval at 0 steps, 0 episodes" in (relearned / "run.log").read_text()


def test_transfer_learns_between_trials_from_each_snapshot(online_run, monkeypatch):
    spec, out = online_run
    seen: list[tuple[str, int]] = []  # (job, episodes behind the agent) at each end_episode
    job_id = ""
    learn = ModelBasedAgent.end_episode

    def recorded(agent: ModelBasedAgent, record) -> None:
        seen.append((job_id, agent.episodes))
        learn(agent, record)

    monkeypatch.setattr(ModelBasedAgent, "end_episode", recorded)
    held_out = json.loads((out / "held_out_seed.json").read_text())["held_out_seed"]
    for job in plan_jobs(spec):
        if job.kind in ("transfer", "training-context"):
            job_id = job.job_id
            outcome = _work(spec, str(out), held_out, job)
            assert outcome.error is None, outcome.error
    # Each instance loads its snapshot afresh and learns once between its two trials;
    # the training context's episodes learn nothing.
    assert seen == [("transfer/mbrl/10000/drift", 3)] * 2 + [
        ("transfer/mbrl@criterion/10000/drift", 2)] * 2


def test_the_report_labels_the_online_learners_snapshots_and_relearning(online_run):
    spec, out = online_run
    text = write_report(spec, out / "results.sqlite", out / "report", gifs=False).read_text()
    assert "| mbrl (fully trained) | drift |" in text
    assert "| mbrl (at criterion) | drift |" in text
    assert "## Relearning" in text


def test_pool_workers_get_one_thread_each_unless_told(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # the user's choice stands
    with _one_thread_per_worker():
        assert {k: os.environ[k] for k in WORKER_THREADS} == {
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "3"}
    assert "OMP_NUM_THREADS" not in os.environ and os.environ["MKL_NUM_THREADS"] == "3"
