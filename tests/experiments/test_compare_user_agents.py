"""``exgen compare`` with a user's agent that has no ``save``: a predict-only agent is
built afresh for its transfer trials; one that learns is refused at load."""

import json

from exgen.experiments.scheduler import _work, plan_jobs
from exgen.scripts.cli import main
from tests.experiments.test_compare import spec_from_text

TINY = """
name = "tiny"
env = "LunarLanding-v0"
[[agents]]
name = "mine"
agent = "tests.scripts.test_train_evaluate:{agent}"
train = [{{ gravity = 9.81 }}]
budget_episodes = 1
[[tests]]
name = "moon"
context = {{ preset = "moon" }}
[presets.quick]
seeds = [10000]
trials = 2
instances = 1
eval_every_steps = 100000
"""


def test_a_predict_only_agent_learns_and_transfers(tmp_path):
    spec = spec_from_text(tmp_path, TINY.format(agent="PredictOnly"))
    out = tmp_path / "out"
    # The jobs as a compare's workers run them, here in this process (no pool to start).
    learn, transfer, home = (_work(spec, str(out), 1_000_000, job) for job in plan_jobs(spec))
    assert not (learn.error or transfer.error or home.error), (
        learn.error or transfer.error or home.error)
    assert len(home.records) == 1  # fresh training-context episodes: train_instances
    assert len(learn.records) == 1 and learn.summary["status"] == "finished"
    assert len(transfer.records) == 2  # trials x instances
    assert {record.context["gravity"] for record in transfer.records} == {1.62}
    meta = json.loads((out / "runs" / "mine" / "10000" / "agent.json").read_text())
    assert meta["saved"] is False and meta["constructor"] == {"seed": 10_000}


def test_compare_refuses_a_learner_without_save_in_one_line(tmp_path, capsys):
    path = tmp_path / "spec.toml"
    path.write_text(TINY.format(agent="NoSaveLearner"), encoding="utf-8")
    assert main(["compare", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"exgen compare: error: {path} agents 'mine'.agent: agent "
        f"'tests.scripts.test_train_evaluate:NoSaveLearner' learns (observe()) but has no "
        f"save(path)")
    assert not (tmp_path / "out").exists()
