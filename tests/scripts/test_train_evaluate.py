"""``exgen train`` and ``exgen evaluate`` end to end, including their errors."""

import json
import subprocess
import sys

import pytest

from exgen.agents.records import read_log
from exgen.scripts.cli import main


def exgen(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exgen.scripts.cli", *args], capture_output=True,
                          text=True, timeout=600, cwd=cwd)


class Buggy:
    """A user's agent with a bug in its third episode."""

    def __init__(self, env, seed=None):
        self.env, self.calls = env, 0

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        self.calls += 1
        if self.calls > 150:
            raise KeyError("thrust")
        return 0, state


class PredictOnly:
    """A user's agent with nothing but SB3's predict: no save, learns nothing."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return 0, state


class NoSaveLearner(PredictOnly):
    """A user's agent that learns from every step but cannot save what it learned."""

    def observe(self, transition):
        self.kwargs["steps"] = self.kwargs.get("steps", 0) + 1


#: ``mymodule.py`` beside the user's runs, imported from the current folder.
MY_MODULE = """
class MyAgent:
    def __init__(self, *a, **kw):
        pass

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return 0, state
"""


def report_of(result: subprocess.CompletedProcess) -> dict:
    """The JSON report ``exgen evaluate`` or ``exgen train`` printed."""
    return json.loads(result.stdout[:result.stdout.rindex("}") + 1])


def test_the_example_agent_trains_and_evaluates(tmp_path):
    out = tmp_path / "hill"
    result = exgen("train", "--agent", "examples.hill_climber:HillClimber", "--episodes", "30",
                   "--context", "gravity=3.71", "--eval-every", "2000", "--eval-episodes", "5",
                   "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout[:result.stdout.rindex("}") + 1])["episodes"] == 30
    rows = read_log(out / "monitor.csv")
    assert len(rows) == 30 and json.loads(rows[0]["context"])["gravity"] == 3.71
    result = exgen("evaluate", str(out), "--episodes", "3", "--preset", "moon", "--gif",
                   str(tmp_path / "gifs"), "--gif-episodes", "1")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # stdout is the report alone: the GIF lines go to stderr
    assert "wrote " in result.stderr and ".gif" in result.stderr
    # The preset replaces the training gravity (3.71) it sets.
    assert report["episodes"] == 3 and report["env_kwargs"] == {"gravity": 1.62}
    assert report["context"]["gravity"] == 1.62
    assert report["seeds"][0] >= 1_000_000
    assert len(list((tmp_path / "gifs").glob("*.gif"))) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--agent", "ppo2"], "unknown agent 'ppo2'"),
    (["--agent", "nowhere.module:Agent"], "cannot import module 'nowhere.module'"),
    (["--agent", "json:dumps"], "has no predict() method"),
    (["--agent", "random", "--context", "gravty=3"], "unknown LanderConfig field 'gravty'"),
    (["--agent", "random", "--context", "gravity"], "context must be KEY=VALUE"),
    (["--agent", "random", "--steps", "0"], "total_timesteps must be > 0"),
    (["--agent", "random", "--episodes", "-2"], "total_episodes must be > 0"),
    (["--agent", "random", "--env", "Nope-v0"], "Nope"),
    (["--agent", "random", "--seed", "1000000"], "held out"),
    (["--agent", "ppo", "--hyper", "lerning_rate=1e-3"], "unknown ppo hyperparameter "
                                                         "'lerning_rate'"),
    (["--agent", "ppo", "--hyper", "policy_kwargs=big"], "policy_kwargs must be a table"),
    (["--agent", "ppo", "--hyper", "step_penalty=-1"], "step_penalty must be a number >= 0"),
    (["--agent", "ppo", "--hyper", "lane_keeping=1"], "unknown ppo hyperparameter "
                                                      "'lane_keeping'"),
    (["--agent", "ppo", "--hyper", "give_up_after_steps=0"], "give_up_after_steps must be"),
    (["--agent", "ppo", "--hyper", "policy_kwargs={net_arch: [8]}"], "is not valid JSON"),
    (["--agent", "ppo", "--hyper", "action_grid=[[-1, 1], [0, 1]]"],
     "action_grid needs a flat continuous (Box) action space"),
    (["--agent", "ppo", "--context", "continuous=true", "--hyper", "action_grid=[[-1, 1]]"],
     "action_grid has 1 value lists"),
])
def test_train_input_errors_are_one_line_with_exit_code_2(tmp_path, args, message):
    result = exgen("train", *args, "--out", str(tmp_path / "run"), "--no-progress")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "run").exists()


def test_evaluate_input_errors(tmp_path):
    result = exgen("evaluate", str(tmp_path / "missing"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    stopped = tmp_path / "stopped"
    (stopped / "checkpoints").mkdir(parents=True)
    (stopped / "run.json").write_text("{}")
    (stopped / "checkpoints" / "step_000000050000.zip").write_bytes(b"")
    (stopped / "checkpoints" / "step_000000050000.json").write_text("{}")
    result = exgen("evaluate", str(stopped))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"exgen evaluate: error: {stopped} holds no finished agent (agent.json): the run was "
        f"stopped before it ended; its last checkpoint is "
        f"{stopped / 'checkpoints' / 'step_000000050000.zip'}"]


def test_a_buggy_user_agent_shows_its_traceback_exits_1_and_keeps_the_log(tmp_path):
    out = tmp_path / "run"
    result = exgen("train", "--agent", "tests.scripts.test_train_evaluate:Buggy", "--episodes",
                   "10", "--context", "gravity=1.0", "initial_velocity_spread=0",
                   "--out", str(out), "--no-progress")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "KeyError: 'thrust'" in result.stderr
    assert "in predict" in result.stderr and 'raise KeyError("thrust")' in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "agent 'tests.scripts.test_train_evaluate:Buggy' raised in predict()" in last
    assert "during episode" in last
    log = (out / "run.log").read_text()
    assert "KeyError: 'thrust'" in log
    assert json.loads((out / "summary.json").read_text())["status"] == "failed"
    assert read_log(out / "monitor.csv") is not None


def test_the_planner_trains_in_three_trials_and_evaluates_elsewhere(tmp_path):
    out = tmp_path / "planner"
    result = exgen("train", "--agent", "planner", "--episodes", "3", "--context",
                   "gravity=3.71", "--eval-every", "100", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes_to_criterion"] == 1
    result = exgen("evaluate", str(out), "--preset", "jupiter", "--episodes", "3")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["success_rate"] == 1.0


def test_a_predict_only_agent_trains_and_evaluates_in_the_preset_context(tmp_path):
    (tmp_path / "mymodule.py").write_text(MY_MODULE, encoding="utf-8")
    out = tmp_path / "run"
    result = exgen("train", "--agent", "mymodule:MyAgent", "--env", "LunarLanding-v0",
                   "--episodes", "2", "--eval-episodes", "2", "--context", "gravity=9.81",
                   "initial_height=12", "--out", str(out), "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert report_of(result)["status"] == "finished"
    meta = json.loads((out / "agent.json").read_text())
    assert meta["saved"] is False and meta["constructor"] == {"seed": 10_000}
    assert not (out / "model.pkl").exists() and not (out / "checkpoints").exists()
    result = exgen("evaluate", str(out), "--preset", "moon", "--episodes", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = report_of(result)
    # The run's context with the preset's field replaced: gravity 9.81 becomes 1.62.
    assert report["env_kwargs"] == {"gravity": 1.62, "initial_height": 12}
    assert report["context"]["gravity"] == 1.62 and report["context"]["initial_height"] == 12
    assert report["agent"] == "mymodule:MyAgent" and report["episodes"] == 2


def test_an_agent_is_evaluated_without_a_run_folder(capsys):
    assert main(["evaluate", "--agent", "tests.scripts.test_train_evaluate:PredictOnly",
                 "--env", "LunarLanding-v0", "--episodes", "2", "--preset", "mars",
                 "--context", "wind_speed=2", "--seed", "1000000"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["run"] is None and report["seeds"] == [1_000_000, 1_000_001]
    assert report["env_kwargs"] == {"gravity": 3.71, "wind_speed": 2}
    assert report["context"]["gravity"] == 3.71 and report["episodes"] == 2


def test_a_city_evaluation_reports_clean_arrivals_infractions_and_the_driving_score(capsys):
    assert main(["evaluate", "--agent", "planner", "--env", "CityDriving-v0", "--episodes",
                 "2", "--context", "preset=empty", "--seed", "1000000"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["clean_arrival_rate"] <= report["success_rate"]
    assert set(report["infractions_per_episode"]) >= {"red_light", "wrong_lane", "off_road"}
    assert 0.0 <= report["mean_driving_score"] <= 1.0
    lunar = main(["evaluate", "--agent", "random", "--env", "LunarLanding-v0", "--episodes",
                  "1", "--seed", "1000000"])
    assert lunar == 0 and "clean_arrival_rate" not in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--agent", "random"], "give RUN (run) or --agent (random), not both"),
    ([], "give RUN (a training output folder or model file) or --agent NAME"),
    (["--agent", "ppo"], "--agent ppo is an RL algorithm and learns first"),
    (["--agent", "ppo2"], "unknown agent 'ppo2'"),
    (["--agent", "random", "--episodes", "0"], "--episodes must be > 0, got 0"),
    (["--agent", "random", "--seed", "-1"], "--seed must be >= 0, got -1"),
    (["--agent", "random", "--preset", "moon", "--context", "gravity=3"],
     "gravity=3 contradicts preset 'moon' (gravity 1.62)"),
    (["--agent", "random", "--preset", "vulcan"], "unknown preset 'vulcan'; valid presets:"),
])
def test_evaluate_argument_errors_are_one_line_with_exit_code_2(capsys, args, message):
    assert main(["evaluate", *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_a_learner_without_save_trains_with_a_warning_and_evaluate_refuses_it(tmp_path,
                                                                               capsys):
    out = tmp_path / "run"
    name = "tests.scripts.test_train_evaluate:NoSaveLearner"
    assert main(["train", "--agent", name, "--episodes", "1", "--eval-episodes", "1",
                 "--out", str(out), "--no-progress"]) == 0
    assert "learns (observe()) but has no save(path)" in capsys.readouterr().err
    assert "constructor" not in json.loads((out / "agent.json").read_text())
    assert main(["evaluate", str(out), "--episodes", "1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"exgen evaluate: error: {out} kept no model: agent {name!r} learns but has no "
        f"save(path), so what it learned was lost; give it save(path) and load(path, "
        f"env=None) and train again"]


def test_the_eval_context_replaces_the_fields_it_names(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--agent", "random", "--episodes", "1", "--eval-episodes", "1",
                 "--preset", "moon", "strong_wind", "--eval-context", "gravity=3",
                 "--out", str(out), "--no-progress"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["env_kwargs"] == {"preset": ["moon", "strong_wind"]}
    assert run["eval_env_kwargs"] == {"gravity": 3, "wind_speed": 10.0, "turbulence": 3.0}
    assert f"wrote {out}/ (agent.json, evaluations.npz, model.pkl, monitor.csv" in (
        capsys.readouterr().out)
