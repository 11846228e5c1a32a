"""A micro experiment end to end: runner, store, statistics, report; kill and resume."""

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from exgen.experiments.report import write_report
from exgen.experiments.scheduler import plan_jobs, redo_jobs, run_experiment
from exgen.experiments.spec import ExperimentSpec, load_spec
from exgen.experiments.store import ResultsStore

MICRO = """
name = "micro"
env = "LunarLanding-v0"
[[agents]]
name = "random"
agent = "random"
train = [{ gravity = 9.81 }]
budget_episodes = 3
[[agents]]
name = "planner"
agent = "planner"
train = [{ gravity = [9.0, 10.0] }]
budget_episodes = 2
[[agents]]
name = "buggy"
agent = "tests.scripts.test_train_evaluate:Buggy"
train = [{ gravity = 1.0, initial_velocity_spread = 0.0 }]
budget_episodes = 2
[[tests]]
name = "g9.5"
context = { gravity = 9.5 }
[[tests]]
name = "moon"
context = { preset = "moon" }
[presets.quick]
seeds = [10000, 10001]
trials = 2
instances = 2
eval_every_steps = 100000
"""


def spec_from_text(folder: Path, text: str, filename: str = "spec.toml") -> ExperimentSpec:
    """Write spec ``text`` to ``folder``/``filename`` and load it."""
    path = folder / filename
    path.write_text(text, encoding="utf-8")
    return load_spec(path)


def run_once(tmp_path_factory, text: str, name: str,
             workers: int = 2) -> tuple[ExperimentSpec, Path]:
    """Spec ``text`` run into a fresh folder called ``name``: (spec, out folder)."""
    folder = tmp_path_factory.mktemp(name)
    spec = spec_from_text(folder, text, f"{name}.toml")
    run_experiment(spec, folder / "out", workers=workers)
    return spec, folder / "out"


def micro_spec(tmp_path):
    return spec_from_text(tmp_path, MICRO, "micro.toml")


def test_micro_compare_end_to_end(tmp_path):
    spec = micro_spec(tmp_path)
    store_path = run_experiment(spec, tmp_path / "out", workers=2)
    with ResultsStore(store_path) as store:
        jobs = store.jobs("micro:quick")
        assert len(jobs) == len(plan_jobs(spec)) == 3 * 2 + 3 * 2 * 2 + 3 * 2
        failed = [j for j in jobs if j["status"] == "failed"]
        assert {j["job_id"] for j in failed} == {"learn/buggy/10000", "learn/buggy/10001"}
        assert all("KeyError: 'thrust'" in j["error"] for j in failed)
        transfer = store.episodes("micro:quick", kind="transfer", agent="planner")
        assert len(transfer) == 2 * 2 * 2 * 2  # seeds x tests x instances x trials
        assert {row["instance"] for row in transfer} == {0, 1}
    report = write_report(spec, store_path, tmp_path / "out" / "report")
    text = report.read_text()
    assert "| planner | g9.5 | interpolation |" in text
    assert "| planner | moon | extrapolation |" in text
    assert "| random | g9.5 | extrapolation |" in text
    failure = next(line for line in text.splitlines() if "`learn/buggy/10000` failed" in line)
    assert "raised in predict() during episode 0: KeyError: 'thrust'" in failure
    assert "6 jobs not run: their learning failed or the run was stopped" in text
    from exgen.experiments.store import code_version

    assert f"Code version (git commit) of the finished jobs: {code_version()}: 18 jobs" in text
    html = (report.parent / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    assert (report.parent / "tables" / "transfer.csv").exists()


def test_a_rerun_skips_finished_jobs(tmp_path):
    spec = micro_spec(tmp_path)
    store_path = run_experiment(spec, tmp_path / "out", workers=2)
    before = sqlite3.connect(store_path).execute(
        "SELECT job_id, finished FROM jobs WHERE status = 'done' ORDER BY job_id").fetchall()
    run_experiment(spec, tmp_path / "out", workers=2)
    after = sqlite3.connect(store_path).execute(
        "SELECT job_id, finished FROM jobs WHERE status = 'done' ORDER BY job_id").fetchall()
    assert before == after


def test_a_killed_compare_resumes_without_duplicates_or_losses(tmp_path):
    spec_path = tmp_path / "micro.toml"
    spec_path.write_text(MICRO.replace("instances = 2", "instances = 6"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "exgen.scripts.cli", "compare", str(spec_path), "--out",
               str(out), "--workers", "2", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and done < 6:
        time.sleep(0.3)
        if (out / "results.sqlite").exists():
            try:
                done = sqlite3.connect(out / "results.sqlite").execute(
                    "SELECT COUNT(*) FROM jobs WHERE status != 'pending'").fetchone()[0]
            except sqlite3.OperationalError:
                done = 0
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    connection = sqlite3.connect(out / "results.sqlite")
    assert connection.execute("SELECT COUNT(*) FROM jobs WHERE status = 'pending' AND "
                              "agent != 'buggy'").fetchone()[0] == 0
    # --no-progress logs a line per job the resumed run finished, and only those.
    printed = re.findall(r"^\S+ \S+ micro (?:learn|transfer|relearn) \d+/\d+ (done|FAILED): "
                         r"(\S+)$", result.stdout, re.MULTILINE)
    statuses = dict(connection.execute("SELECT job_id, status FROM jobs"))
    assert printed and all(statuses[job] == ("done" if status == "done" else "failed")
                           for status, job in printed)
    for job_id, kind, count in connection.execute(
            "SELECT j.job_id, j.kind, COUNT(e.episode) FROM jobs j LEFT JOIN episodes e "
            "USING (job_id) WHERE j.status = 'done' GROUP BY j.job_id"):
        if kind == "transfer":
            assert count == 6 * 2, job_id  # every instance and trial, once
    duplicates = connection.execute(
        "SELECT COUNT(*) FROM (SELECT job_id, episode FROM episodes GROUP BY job_id, episode "
        "HAVING COUNT(*) > 1)").fetchone()[0]
    assert duplicates == 0


LONG_LEARN = """
name = "long"
env = "LunarLanding-v0"
[[agents]]
name = "ppo"
agent = "ppo"
train = [{ gravity = 9.81 }]
budget_steps = 1000000
[[tests]]
name = "moon"
context = { preset = "moon" }
[presets.quick]
seeds = [10000, 10001]
trials = 1
instances = 1
"""


def wait_for_episodes(logs: list[Path], timeout_s: float = 120) -> bool:
    """Wait until every training log holds a finished episode: its job is then past its
    setup, in the loop whose stop signals save a checkpoint and summary."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(log.exists() and len(log.read_text().splitlines()) > 2 for log in logs):
            return True
        time.sleep(0.2)
    return False


def test_a_killed_compare_stops_its_workers_and_they_checkpoint(tmp_path):
    spec_path = tmp_path / "long.toml"
    spec_path.write_text(LONG_LEARN)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "exgen.scripts.cli", "compare", str(spec_path), "--out", str(out),
         "--workers", "2", "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    logs = [out / "runs" / "ppo" / str(seed) / "monitor.csv" for seed in (10000, 10001)]
    assert wait_for_episodes(logs), "the workers never finished an episode"
    process.send_signal(signal.SIGTERM)  # the driver alone, as `kill PID` does
    try:
        _, stderr = process.communicate(timeout=60)
        orphans, deadline = True, time.monotonic() + 20  # multiprocessing's tracker exits last
        while orphans and time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)  # any worker left in the session's process group?
                time.sleep(0.5)
            except ProcessLookupError:
                orphans = False
    finally:
        with contextlib.suppress(ProcessLookupError):  # leave nothing running, pass or fail
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1].startswith("exgen compare: interrupted")
    assert not orphans, "the workers outlived the killed driver"
    for log in logs:
        assert json.loads((log.parent / "summary.json").read_text())["status"] == "interrupted"
    with ResultsStore(out / "results.sqlite") as store:
        assert {j["status"] for j in store.jobs("long:quick")} == {"pending"}


# Random agents with a budget they never reach: two workers busy until stopped, cheaply.
ENDLESS_RANDOM = """
name = "endless"
env = "LunarLanding-v0"
[[agents]]
name = "random"
agent = "random"
train = [{ gravity = 9.81 }]
budget_episodes = 1000000
[[tests]]
name = "moon"
context = { preset = "moon" }
[presets.quick]
seeds = [10000, 10001]
trials = 1
instances = 1
"""


def children_of(pid: int) -> set[int]:
    """The live (not zombie) processes whose parent is ``pid``, from /proc."""
    return {child for child, parent in _proc_parents().items() if parent == pid}


def _proc_parents() -> dict[int, int]:
    """pid -> parent pid of every live process in /proc (zombies left out)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
            if state != "Z":
                parents[int(stat.parent.name)] = int(ppid)
    return parents


def alive(pid: int) -> bool:
    return pid in _proc_parents()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_workers_of_a_compare_killed_by_sigkill_exit_too(tmp_path):
    spec_path = tmp_path / "endless.toml"
    spec_path.write_text(ENDLESS_RANDOM)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "exgen.scripts.cli", "compare", str(spec_path), "--out", str(out),
         "--workers", "2", "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    logs = [out / "runs" / "random" / str(seed) / "monitor.csv" for seed in (10000, 10001)]
    try:
        assert wait_for_episodes(logs), "the workers never finished an episode"
        workers = children_of(process.pid)  # the two workers and multiprocessing's tracker
        assert len(workers) >= 2
        os.kill(process.pid, signal.SIGKILL)  # the driver alone: no handler runs
        process.wait()
        # Each finishes its episode and writes its summary first: on a loaded machine
        # that takes seconds. Without the parent-death signal they would never stop.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(pid) for pid in workers):
            time.sleep(0.1)
        left = sorted(pid for pid in workers if alive(pid))
    finally:
        with contextlib.suppress(ProcessLookupError):  # leave nothing running, pass or fail
            os.killpg(process.pid, signal.SIGKILL)
    assert not left, f"processes {left} outlived the driver killed by SIGKILL"
    for log in logs:  # each worker stopped its learn job as a SIGTERM stops it
        assert json.loads((log.parent / "summary.json").read_text())["status"] == "interrupted"


# With no engines in a weak gravity every lander settles on the pad, so PPO meets the
# criterion at its first evaluation: a learned model to relearn from, in seconds.
RELEARN = """
name = "relearn"
env = "LunarLanding-v0"
[[agents]]
name = "ppo"
agent = "ppo"
budget_steps = 256
hyperparameters = { n_envs = 2, n_steps = 64, batch_size = 64 }
[[agents.train]]
gravity = 0.5
initial_velocity_spread = 0.0
main_engine_thrust = 0.0
side_engine_thrust = 0.0
[[agents]]
name = "random"
agent = "random"
train = [{ gravity = 9.81 }]
budget_episodes = 2
[[tests]]
name = "moon"
context = { preset = "moon" }
[presets.quick]
seeds = [10000]
trials = 1
instances = 1
eval_every_steps = 128
relearn = ["moon"]
relearn_budget_steps = 200
stop_at_criterion = true
"""


def test_rl_agents_relearn_in_the_listed_test_contexts(tmp_path):
    spec = spec_from_text(tmp_path, RELEARN, "relearn.toml")
    assert [j.job_id for j in plan_jobs(spec) if j.kind == "relearn"] == [
        "relearn/ppo/10000/moon"]
    store_path = run_experiment(spec, tmp_path / "out", workers=2)
    with ResultsStore(store_path) as store:
        jobs = {j["job_id"]: j for j in store.jobs("relearn:quick")}
        learned = json.loads(jobs["learn/ppo/10000"]["summary"])
        assert learned["criterion"]["met"] is not None
        relearn = store.jobs("relearn:quick")
        assert {j["job_id"]: j["status"] for j in relearn}["relearn/ppo/10000/moon"] == "done"
        episodes = store.episodes("relearn:quick", kind="relearn")
        assert episodes and all(e["context"]["gravity"] == 1.62 for e in episodes)
    text = write_report(spec, store_path, tmp_path / "out" / "report").read_text()
    assert "## Relearning" in text and "| ppo |" in text
    assert "A relearn job stops after 200 env steps" in text
    assert (tmp_path / "out" / "report" / "figures" / "relearning.png").exists()


def test_redo_makes_chosen_jobs_and_those_built_on_them_pending_again(tmp_path):
    spec = spec_from_text(tmp_path, RELEARN, "relearn.toml")
    out = tmp_path / "out"
    store_path = run_experiment(spec, out, workers=2)
    relearn_folder = out / "relearn" / "ppo" / "10000" / "moon"
    assert relearn_folder.is_dir()
    assert redo_jobs(spec, out, "relearn/ppo") == ["relearn/ppo/10000/moon"]
    assert not relearn_folder.exists()
    with ResultsStore(store_path) as store:
        status = {j["job_id"]: j["status"] for j in store.jobs("relearn:quick")}
        assert status["relearn/ppo/10000/moon"] == "pending"
        assert status["learn/ppo/10000"] == "done"
        assert store.episodes("relearn:quick", kind="relearn") == []
    (relearn_folder / "checkpoints").mkdir(parents=True)  # a partial run from before a fix
    assert redo_jobs(spec, out, "relearn/ppo") == [] and not relearn_folder.exists()
    assert sorted(redo_jobs(spec, out, "learn/ppo")) == [
        "learn/ppo/10000", "training-context/ppo/10000",
        "transfer/ppo/10000/moon"]  # the relearn job is pending already
    run_experiment(spec, out, workers=2)
    with ResultsStore(store_path) as store:
        assert {j["status"] for j in store.jobs("relearn:quick")} == {"done"}
        duplicates = store.connection.execute(
            "SELECT COUNT(*) FROM (SELECT job_id, episode FROM episodes GROUP BY job_id, "
            "episode HAVING COUNT(*) > 1)").fetchone()[0]
        assert duplicates == 0 and store.episodes("relearn:quick", kind="relearn")
    result = subprocess.run([sys.executable, "-m", "exgen.scripts.cli", "compare",
                             str(tmp_path / "relearn.toml"), "--out", str(out), "--redo",
                             "nope"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "exgen compare: error: no job of relearn (quick) starts with 'nope'; job ids look "
        "like 'learn/ppo/10000'"]


NEVER_LEARNS = """
name = "micro-ppo"
env = "LunarLanding-v0"
[[agents]]
name = "ppo"
agent = "ppo"
train = [{ gravity = 9.81 }]
hyperparameters = { n_envs = 1, n_steps = 64, batch_size = 32 }
[[tests]]
name = "moon"
context = { preset = "moon" }
[presets.quick]
note = "Too small for PPO to learn: a smoke run."
seeds = [10000]
budget_steps = 128
trials = 1
instances = 1
"""


def test_a_seed_that_never_learned_is_not_relearned_and_the_report_says_so(tmp_path):
    spec = spec_from_text(tmp_path, NEVER_LEARNS.replace("instances = 1",
                                                         "instances = 1\nrelearn = [\"moon\"]"))
    store_path = run_experiment(spec, tmp_path / "out", workers=1)
    with ResultsStore(store_path) as store:
        job = {j["job_id"]: j for j in store.jobs("micro-ppo:quick")}["relearn/ppo/10000/moon"]
        assert job["status"] == "done" and "never met the criterion" in job["summary"]
        assert store.episodes("micro-ppo:quick", kind="relearn") == []
    assert not (tmp_path / "out" / "relearn").exists()
    text = write_report(spec, store_path, tmp_path / "out" / "report").read_text()
    assert "| moon | 1 seed never learned: not measured |" in text


def test_the_report_says_when_the_rl_baseline_never_learned(tmp_path):
    spec = spec_from_text(tmp_path, NEVER_LEARNS)
    store_path = run_experiment(spec, tmp_path / "out", workers=1)
    lines = write_report(spec, store_path, tmp_path / "report").read_text().splitlines()
    assert lines[2] == "> **Note.** Too small for PPO to learn: a smoke run."
    assert lines[4].startswith("> **ppo never learned** in 1 of 1 seeds")
    assert "meaningless" in lines[4]
    assert any(line.startswith("| ppo † (fully trained) | moon |") for line in lines)


TWO_CONTEXTS = """
name = "micro-set"
env = "LunarLanding-v0"
[[agents]]
name = "random"
agent = "random"
train = [{ gravity = 9.81 }, { gravity = 3.71 }]
budget_episodes = 12
[[tests]]
name = "g6"
context = { gravity = 6.0 }
[[tests]]
name = "g15"
context = { gravity = 15.0 }
[presets.quick]
seeds = [10000]
trials = 1
instances = 1
"""


def test_an_agent_learns_in_a_set_of_contexts_and_labels_follow_the_set(tmp_path):
    spec = spec_from_text(tmp_path, TWO_CONTEXTS)
    store_path = run_experiment(spec, tmp_path / "out", workers=1)
    with ResultsStore(store_path) as store:
        assert {j["status"] for j in store.jobs("micro-set:quick")} == {"done"}
        learned = store.episodes("micro-set:quick", kind="learn")
    assert len(learned) == 12
    assert {e["context"]["gravity"] for e in learned} == {9.81, 3.71}
    text = write_report(spec, store_path, tmp_path / "report", gifs=False).read_text()
    assert "| random | g6 | interpolation |" in text  # between the two training gravities
    assert "| random | g15 | extrapolation |" in text


def test_transfer_trials_are_played_deterministically_as_the_criterion_is(tmp_path):
    import gymnasium as gym

    from exgen.agents.episodes import run_episodes
    from exgen.agents.training import load_trained_agent

    spec = spec_from_text(tmp_path, NEVER_LEARNS)
    store_path = run_experiment(spec, tmp_path / "out", workers=1)
    with ResultsStore(store_path) as store:
        (stored,) = store.episodes("micro-ppo:quick", kind="transfer")
    held_out = json.loads((tmp_path / "out" / "held_out_seed.json").read_text())
    env = gym.make("LunarLanding-v0", preset="moon")
    agent, _ = load_trained_agent(tmp_path / "out" / "runs" / "ppo" / "10000", env=env)
    (replay,) = run_episodes(agent, env, 1, seed=held_out["held_out_seed"],
                             deterministic=True)
    assert (stored["length"], stored["episode_return"]) == (replay.length,
                                                            replay.episode_return)


# Protocol v2 in one small experiment: "ppo" meets the criterion at its first evaluation
# (no engines, weak gravity: every lander settles on the pad) and learns on to its budget;
# "ppo-never" never meets it; "random" is no RL agent (one snapshot) and learns in a
# mixture of two contexts.
SNAPSHOTS = """
name = "snapshots"
env = "LunarLanding-v0"
[[agents]]
name = "ppo"
agent = "ppo"
budget_steps = 256
hyperparameters = { n_envs = 2, n_steps = 64, batch_size = 64 }
[[agents.train]]
gravity = 0.5
initial_velocity_spread = 0.0
main_engine_thrust = 0.0
side_engine_thrust = 0.0
[[agents]]
name = "ppo-never"
agent = "ppo"
train = [{ gravity = 9.81 }]
budget_steps = 128
hyperparameters = { n_envs = 1, n_steps = 64, batch_size = 32 }
[[agents]]
name = "random"
agent = "random"
train = [{ gravity = 9.81 }, { gravity = 3.71 }]
budget_episodes = 2
[[tests]]
name = "moon"
context = { preset = "moon" }
[presets.quick]
seeds = [10000]
trials = 1
instances = 2
train_instances = 4
eval_every_steps = 128
"""


@pytest.fixture(scope="module")
def snapshots_run(tmp_path_factory):
    """The SNAPSHOTS experiment, run once for the tests below: (spec, out folder)."""
    return run_once(tmp_path_factory, SNAPSHOTS, "snapshots")


def test_v2_plans_transfer_from_both_snapshots_of_rl_agents_only(tmp_path):
    spec = spec_from_text(tmp_path, SNAPSHOTS, "snapshots.toml")
    jobs = {j.job_id: j for j in plan_jobs(spec)}
    assert [j for j in jobs if j.startswith("transfer/")] == [
        "transfer/ppo/10000/moon", "transfer/ppo@criterion/10000/moon",
        "transfer/ppo-never/10000/moon", "transfer/ppo-never@criterion/10000/moon",
        "transfer/random/10000/moon"]  # the random agent is no RL agent: one snapshot
    assert jobs["transfer/ppo@criterion/10000/moon"].snapshot == "criterion"
    assert jobs["transfer/ppo/10000/moon"].snapshot == "final"
    assert [j for j in jobs if j.startswith("training-context/")] == [
        "training-context/ppo/10000", "training-context/ppo-never/10000",
        "training-context/random/10000"]
    once = spec_from_text(tmp_path, SNAPSHOTS.replace("instances = 2\n", "instances = 2\n"
                                                      "stop_at_criterion = true\n"), "v1.toml")
    assert once.stop_at_criterion and not any("@" in j.job_id for j in plan_jobs(once))


def test_v2_learns_to_the_budget_and_keeps_the_model_at_the_criterion(snapshots_run):
    _, out = snapshots_run
    run = out / "runs" / "ppo" / "10000"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["criterion"]["met"]["timesteps"] == 128  # met at the first evaluation
    assert summary["last_evaluation"]["timesteps"] == 256  # and learned on to the budget
    assert (run / "criterion_model.zip").exists() and (run / "model.zip").exists()
    never = out / "runs" / "ppo-never" / "10000"
    assert json.loads((never / "summary.json").read_text())["criterion"]["met"] is None
    assert not (never / "criterion_model.zip").exists() and (never / "model.zip").exists()
    with ResultsStore(out / "results.sqlite") as store:
        assert store.protocol("snapshots:quick") == 2
        jobs = {j["job_id"]: j for j in store.jobs("snapshots:quick")}
        assert {j["status"] for j in jobs.values()} == {"done"}
        assert jobs["transfer/ppo@criterion/10000/moon"]["snapshot"] == "criterion"
        assert jobs["transfer/ppo/10000/moon"]["snapshot"] == "final"
        skipped = jobs["transfer/ppo-never@criterion/10000/moon"]
        assert json.loads(skipped["summary"])["skipped"].startswith("not met")
        episodes = store.episodes("snapshots:quick", kind="transfer")
    by_job = defaultdict(list)
    for e in episodes:
        by_job[e["job_id"]].append(e["snapshot"])
    assert by_job["transfer/ppo@criterion/10000/moon"] == ["criterion"] * 2
    assert by_job["transfer/ppo/10000/moon"] == ["final"] * 2
    assert "transfer/ppo-never@criterion/10000/moon" not in by_job  # no episodes: not met


def test_v2_measures_the_training_context_afresh_and_the_gap_uses_it(snapshots_run):
    from exgen.experiments.statistics import generalization_gap

    spec, out = snapshots_run
    with ResultsStore(out / "results.sqlite") as store:
        home = store.episodes("snapshots:quick", kind="training-context")
        transfer = store.episodes("snapshots:quick", kind="transfer", agent="ppo",
                                  snapshot="final")
    ppo = [e for e in home if e["agent"] == "ppo"]
    assert [e["instance"] for e in ppo] == [0, 1, 2, 3]
    assert all(e["context"]["gravity"] == 0.5 and e["success"] for e in ppo)
    mixed = [e["context"]["gravity"] for e in home if e["agent"] == "random"]
    assert mixed == [9.81, 3.71, 9.81, 3.71]  # spread over the mixture's contexts
    assert {e["job_id"] for e in home} == {f"training-context/{a}/10000"
                                           for a in ("ppo", "ppo-never", "random")}
    text = write_report(spec, out / "results.sqlite", out / "report", gifs=False).read_text()
    expected = generalization_gap({10000: [e["success"] for e in ppo]},
                                  {10000: [e["success"] for e in transfer]},
                                  train_shared_instances=True, test_shared_instances=True)
    headline = next(line for line in text.splitlines() if line.startswith("- **ppo**:"))
    assert f"generalization gap {expected}" in headline
    assert "training-context success 1.00" in headline


def test_v2_report_labels_both_snapshots_and_says_not_met(snapshots_run):
    spec, out = snapshots_run
    lines = write_report(spec, out / "results.sqlite", out / "report2",
                         gifs=False).read_text().splitlines()
    table = lines[lines.index("## Transfer"):lines.index("## Per seed")]
    rows = [line.split(" | ")[0] for line in table if " | moon | " in line]
    assert rows == ["| ppo (fully trained)", "| ppo (at criterion)",
                    "| ppo-never † (fully trained)", "| random"]
    assert any(line.startswith("- **ppo-never, at criterion**: not met in 1 of 1 seeds")
               for line in lines)
    assert not any("Old protocol" in line for line in lines)


def test_a_report_over_an_old_protocol_store_says_so_at_the_top(snapshots_run, tmp_path):
    import shutil

    spec, out = snapshots_run
    old = tmp_path / "results.sqlite"
    shutil.copy(out / "results.sqlite", old)
    connection = sqlite3.connect(old)  # as protocol 1 left it: one snapshot, no home runs
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("DELETE FROM episodes WHERE job_id IN (SELECT job_id FROM jobs WHERE "
                       "kind = 'training-context' OR snapshot = 'criterion')")
    connection.execute("DELETE FROM jobs WHERE kind = 'training-context' OR "
                       "snapshot = 'criterion'")
    connection.execute("UPDATE experiments SET protocol = 1")
    connection.commit()
    connection.close()
    lines = write_report(spec, old, tmp_path / "report", gifs=False).read_text().splitlines()
    assert lines[2].startswith("> **Old protocol (v1).** This store was made under protocol "
                               "v1: learning stopped at the criterion")
    assert not any((line.startswith("- **") and "generalization gap" in line)
                   or "(fully trained)" in line for line in lines)
    assert any(line.startswith("| ppo | moon |") for line in lines)


def test_resumed_learning_keeps_where_it_first_met_the_criterion(tmp_path):
    from exgen.agents.training import RunSpec, train

    run = {"agent": "tests.agents.test_training:Pilot", "env_id": "LunarLanding-v0",
           "out": tmp_path / "run", "seed": 10_000, "eval_every_steps": 1,
           "eval_episodes": 20}
    first = train(RunSpec(**run, total_episodes=2))["criterion"]["met"]
    assert first is not None and (tmp_path / "run" / "criterion_model.pkl").exists()
    assert (tmp_path / "run" / "model.pkl").exists()
    again = train(RunSpec(**run, total_episodes=4), resume=True)
    assert again["episodes"] == 4 and again["criterion"]["met"] == first
