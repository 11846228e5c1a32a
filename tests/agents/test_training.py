import json
import os
import signal
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest

from exgen.agents import OnlineAgent
from exgen.agents.episodes import run_episodes
from exgen.agents.public_view import PublicView
from exgen.agents.records import read_log
from exgen.agents.training import RunSpec, load_trained_agent, train
from exgen.envs.lunar.heuristic import heuristic_action


def spec(tmp_path, **changes) -> RunSpec:
    fields = {"agent": "random", "env_id": "LunarLanding-v0", "out": tmp_path / "run",
              "seed": 10_000, "total_episodes": 12, "eval_every_steps": 500,
              "eval_episodes": 4, "checkpoint_every_steps": 400}
    fields.update(changes)
    return RunSpec(**fields)


def test_an_online_agent_run_writes_every_record(tmp_path):
    summary = train(spec(tmp_path))
    out = tmp_path / "run"
    rows = read_log(out / "monitor.csv")
    assert [int(r["episode"]) for r in rows] == list(range(12))
    assert summary["episodes"] == 12 and summary["status"] == "finished"
    assert summary["episodes_to_criterion"] == ">12"
    assert summary["eval_seed"] >= 1_000_000
    tallied = {outcome: {"episodes": sum(r["outcome"] == outcome for r in rows),
                         "steps": sum(int(r["l"]) for r in rows if r["outcome"] == outcome)}
               for outcome in {r["outcome"] for r in rows}}
    assert summary["outcomes"] == tallied
    with np.load(out / "evaluations.npz") as data:
        assert data["results"].shape[1] == 4 and data["successes"].shape == data["results"].shape
        assert data["timesteps"][-1] == summary["total_steps"]
    assert sorted(p.suffix for p in (out / "checkpoints").iterdir())
    assert (out / "model.pkl").exists() and (out / "tensorboard").is_dir()
    agent, meta = load_trained_agent(out)
    assert meta["agent"] == "random" and hasattr(agent, "predict")


def test_a_ppo_run_logs_episodes_across_parallel_envs(tmp_path):
    summary = train(spec(tmp_path, agent="ppo", total_episodes=None, total_timesteps=2048,
                         n_envs=4, hyperparameters={"n_steps": 256, "batch_size": 64},
                         eval_every_steps=1024, checkpoint_every_steps=1024))
    rows = read_log(tmp_path / "run" / "monitor.csv")
    steps = [int(r["total_steps"]) for r in rows]
    assert steps == sorted(steps) and steps[-1] <= 2048
    assert len({r["seed"] for r in rows}) == 1
    assert summary["total_steps"] == steps[-1]
    agent, meta = load_trained_agent(tmp_path / "run")
    assert meta["agent"] == "ppo" and agent.algorithm == "ppo"


def test_subprocess_envs_play_the_same_episodes_as_one_process(tmp_path):
    runs = {}
    for vec_env in ("dummy", "subproc"):
        train(spec(tmp_path, agent="ppo", out=tmp_path / vec_env, total_episodes=None,
                   total_timesteps=1024, n_envs=2, vec_env=vec_env,
                   hyperparameters={"n_steps": 256, "batch_size": 64},
                   eval_every_steps=1024, checkpoint_every_steps=1024))
        runs[vec_env] = [(r["r"], r["l"], r["total_steps"], r["is_success"])
                         for r in read_log(tmp_path / vec_env / "monitor.csv")]
    assert runs["subproc"] == runs["dummy"] and len(runs["dummy"]) > 2


def test_an_unknown_vec_env_is_refused(tmp_path):
    with pytest.raises(ValueError, match="vec_env must be one of dummy, subproc"):
        train(spec(tmp_path, vec_env="threads"))


class Pilot(OnlineAgent):
    """The env's heuristic controller as an agent: it meets the criterion from the start."""

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        return heuristic_action(observation), state


class Counter(Pilot):
    """The heuristic pilot that counts the episodes it ended: what it has "learned"."""

    learned = 0

    def end_episode(self, record):
        self.learned += 1


def test_an_online_agent_relearns_from_its_saved_model(tmp_path):
    agent = "tests.agents.test_training:Counter"
    train(spec(tmp_path, agent=agent, total_episodes=2))
    train(spec(tmp_path, agent=agent, total_episodes=3, out=tmp_path / "relearn",
               initial_model=str(tmp_path / "run" / "model.pkl")))
    relearned, _ = load_trained_agent(tmp_path / "relearn")
    assert relearned.learned == 2 + 3  # it went on from the saved agent


def test_relearning_a_model_that_meets_the_criterion_as_it_is_costs_no_episode(tmp_path):
    agent = "tests.agents.test_training:Counter"
    train(spec(tmp_path, agent=agent, total_episodes=2))
    out = tmp_path / "relearn"
    summary = train(spec(tmp_path, agent=agent, total_episodes=5, out=out, eval_episodes=20,
                         initial_model=str(tmp_path / "run" / "model.pkl"),
                         stop_at_criterion=True))
    assert summary["criterion"]["met"]["episodes"] == 0
    assert summary["criterion"]["met"]["timesteps"] == 0
    assert summary["episodes"] == 0 and read_log(out / "monitor.csv") == []
    with np.load(out / "evaluations.npz") as data:
        assert data["timesteps"].tolist() == [0]  # the model it started from, once


def test_criterion_is_recorded_and_can_stop_training(tmp_path):
    summary = train(spec(tmp_path, agent="tests.agents.test_training:Pilot",
                         total_episodes=50, eval_every_steps=1000, eval_episodes=20,
                         stop_at_criterion=True))
    met = summary["criterion"]["met"]
    assert met["success"] >= 0.9 and met["evaluation_episodes"] == 20
    assert summary["episodes_to_criterion"] == met["episodes"] < 50
    assert summary["episodes"] == met["episodes"]


def test_an_existing_run_is_not_overwritten_and_resume_must_match(tmp_path):
    train(spec(tmp_path, total_episodes=3))
    before = (tmp_path / "run" / "monitor.csv").read_bytes()
    with pytest.raises(FileExistsError, match="--resume"):
        train(spec(tmp_path, total_episodes=3))
    with pytest.raises(ValueError, match=r"differ.*seed"):
        train(spec(tmp_path, total_episodes=6, seed=10_001), resume=True)
    assert (tmp_path / "run" / "monitor.csv").read_bytes() == before


def test_held_out_seeds_are_refused_for_training(tmp_path):
    with pytest.raises(ValueError, match="held out"):
        train(spec(tmp_path, seed=1_000_000))


@pytest.mark.parametrize("agent", ["random", "ppo"])
def test_a_killed_run_keeps_its_log_and_resumes(tmp_path, agent):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "exgen.scripts.cli", "train", "--agent", agent, "--out",
               str(out), "--steps", "400000", "--checkpoint-every", "2000",
               "--eval-every", "100000", "--no-progress"]
    if agent == "ppo":
        command += ["--n-envs", "2", "--hyper", "n_steps=256", "batch_size=64"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Two checkpoints' models (a checkpoint is a model and its .json; the summary is
    # written after both): the first one's summary is on disk.
    suffix = "zip" if agent == "ppo" else "pkl"
    deadline = time.monotonic() + 300  # a loaded machine may take minutes to get there
    while time.monotonic() < deadline:
        checkpoints = list((out / "checkpoints").glob(f"step_*.{suffix}")) if out.exists() else []
        if len(checkpoints) >= 2:
            break
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    assert len(checkpoints) >= 2, "no two checkpoints within 300 s: killed too early"
    process.wait()
    rows = read_log(out / "monitor.csv")
    assert rows, process.stderr.read()
    assert [int(r["episode"]) for r in rows] == list(range(len(rows)))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "running"
    resumed = subprocess.run([*command[:command.index("--steps")], "--steps",
                              str(int(rows[-1]["total_steps"]) + 3000),
                              *command[command.index("--steps") + 2:], "--resume"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    after = read_log(out / "monitor.csv")
    assert [int(r["episode"]) for r in after] == list(range(len(after)))
    assert after[:len(rows)] == rows and len(after) > len(rows)
    assert json.loads((out / "summary.json").read_text())["status"] == "finished"


def test_domain_randomized_and_context_aware_variants_train(tmp_path):
    summary = train(spec(tmp_path, agent="ppo", total_episodes=None, total_timesteps=1024,
                         n_envs=2, hyperparameters={"n_steps": 256, "batch_size": 64},
                         env_kwargs={"gravity": (8.0, 12.0), "observe_context": True},
                         eval_every_steps=512))
    rows = read_log(tmp_path / "run" / "monitor.csv")
    gravities = {json.loads(row["context"])["gravity"] for row in rows}
    assert len(gravities) == len(rows) and all(8.0 <= g <= 12.0 for g in gravities)
    agent, _ = load_trained_agent(tmp_path / "run")
    assert agent.model.observation_space.shape == (16,)
    assert summary["status"] == "finished"


@pytest.mark.slow
def test_ppo_reaches_the_criterion_on_the_default_world(tmp_path):
    """The benchmark of the tuned baseline (about a minute on 2 cores)."""
    summary = train(spec(tmp_path, agent="ppo", total_episodes=None, total_timesteps=800_000,
                         eval_every_steps=20_000, eval_episodes=20, stop_at_criterion=True,
                         checkpoint_every_steps=200_000))
    assert summary["criterion"]["met"] is not None, summary
    assert summary["episodes_to_criterion"] < 4000


def interrupted_run(out, options, interrupt):
    """Start ``exgen train`` with ``options`` (in a process group of its own), call
    ``interrupt(process)`` once it has logged 20 episodes; return its exit code and
    stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "exgen.scripts.cli", "train", "--out", str(out), *options,
         "--steps", "10000000", "--checkpoint-every", "10000000", "--eval-every", "10000000",
         "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (
            (out / "monitor.csv").exists() and len(read_log(out / "monitor.csv")) > 20):
        time.sleep(0.2)
    interrupt(process)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_kill_saves_a_checkpoint_and_marks_the_run_interrupted(tmp_path, signum):
    out = tmp_path / "run"
    returncode, stderr = interrupted_run(out, ["--agent", "random"],
                                         lambda process: process.send_signal(signum))
    assert returncode == 130
    assert stderr.strip().splitlines()[-1].startswith("exgen train: interrupted")
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    assert list((out / "checkpoints").glob("step_*.pkl"))
    assert read_log(out / "monitor.csv")


def test_ctrl_c_reaches_subprocess_envs_only_through_the_run_that_saves_its_checkpoint(
        tmp_path):
    out = tmp_path / "run"
    returncode, stderr = interrupted_run(
        out, ["--agent", "ppo", "--vec-env", "subproc", "--n-envs", "2",
              "--hyper", "n_steps=64", "batch_size=64"],
        # as a terminal's Ctrl-C: the whole group, the env processes too
        lambda process: os.killpg(process.pid, signal.SIGINT))
    assert returncode == 130, stderr
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    assert list((out / "checkpoints").glob("step_*.zip"))


def test_a_planner_run_resumes_from_its_checkpoint(tmp_path):
    train(spec(tmp_path, agent="planner", total_episodes=2, checkpoint_every_steps=100))
    summary = train(spec(tmp_path, agent="planner", total_episodes=4,
                         checkpoint_every_steps=100), resume=True)
    assert summary["status"] == "finished" and summary["episodes"] == 4


def test_the_log_keeps_the_training_episodes_the_learner_gave_up(tmp_path):
    train(spec(tmp_path, agent="ppo", env_id="CityDriving-v0", total_episodes=None,
               env_kwargs={"map_seed": 3, "continuous": False}, total_timesteps=512,
               n_envs=2, eval_every_steps=10_000, eval_episodes=1,
               hyperparameters={"n_steps": 64, "batch_size": 64, "give_up_after_steps": 5}))
    rows = read_log(tmp_path / "run" / "monitor.csv")
    gave_up = [r for r in rows if r["outcome"] == "gave_up"]
    assert gave_up and all(r["is_success"] == "0" for r in gave_up)
    assert all(int(r["l"]) >= 5 for r in gave_up)


def test_relearning_from_a_model_keeps_its_final_exploration(tmp_path):
    first = spec(tmp_path, agent="dqn", total_episodes=None, total_timesteps=200,
                 hyperparameters={"learning_starts": 50, "buffer_size": 1000},
                 eval_every_steps=10_000, eval_episodes=1)
    train(first)
    again = spec(tmp_path, agent="dqn", total_episodes=None, total_timesteps=100,
                 out=tmp_path / "relearn", initial_model=str(tmp_path / "run" / "model.zip"),
                 eval_every_steps=10_000, eval_episodes=1)
    train(again)
    agent, _ = load_trained_agent(tmp_path / "relearn")
    final = agent.model.exploration_final_eps
    assert agent.model.exploration_schedule(1.0) == final  # from its first relearning step
    assert agent.model.learning_starts == 0  # no random warm-up that forgets the policy


def test_a_predict_only_agent_is_rebuilt_from_its_constructor_arguments(tmp_path):
    name = "tests.scripts.test_train_evaluate:PredictOnly"
    summary = train(spec(tmp_path, agent=name, total_episodes=2, eval_episodes=1,
                         checkpoint_every_steps=50, hyperparameters={"gain": 2.0},
                         env_kwargs={"gravity": 3.71}))
    out = tmp_path / "run"
    assert summary["status"] == "finished" and summary["episodes"] == 2
    assert not (out / "checkpoints").exists() and not (out / "model.pkl").exists()
    assert "no checkpoint: agent" in (out / "run.log").read_text()
    meta = json.loads((out / "agent.json").read_text())
    assert meta["saved"] is False and meta["constructor"] == {"seed": 10_000, "gain": 2.0}
    env = gym.make("LunarLanding-v0", preset="moon")
    agent, meta = load_trained_agent(out, env=env)
    assert agent.kwargs == {"seed": 10_000, "gain": 2.0}
    assert isinstance(agent.args[0], PublicView)  # built on the env's public view only
    alone, _ = load_trained_agent(out)  # on a new env of the run's context, behind a view
    assert isinstance(alone.args[0], PublicView) and alone.args[0].spec.id == "LunarLanding-v0"


def test_a_tuning_run_evaluates_on_the_tuning_seeds_and_says_so(tmp_path):
    summary = train(spec(tmp_path, total_episodes=3, tuning=True))
    assert summary["eval_seed"] == 900_000 and summary["tuning"] is True
    assert "tuning evaluation seeds 900000..900003" in (tmp_path / "run" / "run.log").read_text()


@pytest.mark.parametrize("changes, message", [
    ({"tuning": True, "eval_seed": 1_000_000}, "tuning evaluates on the tuning seeds"),
    ({"tuning": True, "seed": 900_000}, "training seed must be below 900,000"),
    ({"seed": 1_000_000}, "training seed must be in 0..999999"),
    ({"eval_seed": 900_000}, "eval_seed must be >= 1,000,000"),
])
def test_evaluation_and_training_seeds_keep_to_their_ranges(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        spec(tmp_path, **changes).validate()


@pytest.mark.parametrize("maps", [10_000, [10_000, 10_001, 10_002]])
def test_evaluations_of_a_discrete_sb3_agent_play_batched_the_same_episodes(maps):
    from exgen.agents import make_agent
    from exgen.agents.batched_episodes import plays_batched
    from exgen.agents.training import evaluation_records

    kwargs = {"continuous": False, "observe_route": True, "grid_columns": 3,
              "grid_rows": 3, "map_seed": maps}
    env = gym.make("CityDriving-v0", **kwargs)
    agent = make_agent("ppo", env, seed=2, batch_size=64)
    assert plays_batched(agent)
    seeds = [900_000 + i for i in range(4)]
    batched = evaluation_records(agent, "CityDriving-v0", kwargs, seeds, env, "ppo")
    sequential = run_episodes(agent, env, seed=seeds, deterministic=True, learn=False,
                              agent_name="ppo")  # one env, each reset seeded

    def played(records):
        return [(r.episode_return, r.length, r.is_success, r.outcome, r.infractions,
                 r.context) for r in records]

    assert played(batched) == played(sequential)
    if isinstance(maps, list):  # the maps drawn per reset, the same in both paths
        assert len({r.context["map_seed"] for r in batched}) > 1
