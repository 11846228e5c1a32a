"""The Ray backend: the local pool's results, retried dead workers, a two-node cluster on
this machine, and the CLI's one-line errors.

Ray traffic stays on loopback: Ray turns 127.0.0.1 into the machine's network address,
so nodes here use 127.0.0.2 (also loopback) or Ray's single-machine mode.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exgen.experiments.scheduler import run_experiment
from exgen.experiments.store import ResultsStore
from exgen.scripts.cli import main
from tests.experiments.test_compare import spec_from_text

#: A loopback address that Ray keeps as it is (it replaces 127.0.0.1).
NODE_IP = "127.0.0.2"
#: The first transfer seed of every run here (a test seed), so two runs can be compared.
HELD_OUT = 4_242
REPO = Path(__file__).resolve().parents[2]

MICRO = """
name = "micro"
env = "LunarLanding-v0"
[[agents]]
name = "steady"
agent = "tests.experiments.ray_agents:Steady"
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

SMALL = """
name = "small"
env = "LunarLanding-v0"
[[agents]]
name = "steady"
agent = "tests.experiments.ray_agents:Steady"
train = [{ gravity = 9.81 }]
budget_episodes = 2
[[tests]]
name = "g9.5"
context = { gravity = 9.5 }
[presets.quick]
seeds = [10000]
trials = 2
instances = 1
eval_every_steps = 100000
"""

DIES_ONCE = """
name = "dies"
env = "LunarLanding-v0"
[[agents]]
name = "dies"
agent = "tests.experiments.ray_agents:DiesOnce"
train = [{ gravity = 9.81 }]
budget_episodes = 3
hyperparameters = { marker = "MARKER" }
[[tests]]
name = "moon"
context = { preset = "moon" }
[presets.quick]
seeds = [10000]
trials = 2
instances = 2
eval_every_steps = 100000
"""


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    """One local Ray instance (2 CPUs, loopback) for this module's in-process runs."""
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'exgen[ray]'")
    temp = tempfile.mkdtemp(prefix="exray-", dir="/tmp")  # short: Ray's socket paths
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR, object_store_memory=100 * 2**20,
             _temp_dir=temp, _node_ip_address=NODE_IP)
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


def out_folder(path: Path) -> Path:
    """An output folder whose transfer seeds are :data:`HELD_OUT` onwards."""
    path.mkdir(parents=True)
    (path / "held_out_seed.json").write_text(json.dumps({"held_out_seed": HELD_OUT}))
    return path


def contents(store_path: Path, key: str) -> tuple[list[tuple], list[dict[str, Any]]]:
    """Jobs (id, status, last line of the error) and episode rows less their wall time."""
    with ResultsStore(store_path) as store:
        jobs = [(j["job_id"], j["status"], (j["error"] or "").strip().splitlines()[-1:])
                for j in store.jobs(key)]
        episodes = [{k: v for k, v in row.items() if k != "wall_time"}
                    for row in store.episodes(key)]
    return jobs, episodes


def test_ray_stores_what_the_local_pool_stores(tmp_path, local_ray):
    spec = spec_from_text(tmp_path, MICRO)
    local = contents(run_experiment(spec, out_folder(tmp_path / "local"), workers=2),
                     "micro:quick")
    on_ray = contents(run_experiment(spec, out_folder(tmp_path / "ray"), workers=2,
                                     backend="ray"), "micro:quick")
    assert on_ray == local
    jobs, episodes = on_ray
    assert {job_id: status for job_id, status, _ in jobs if status != "done"} == {
        "learn/buggy/10000": "failed", "learn/buggy/10001": "failed",
        "transfer/buggy/10000/g9.5": "pending", "transfer/buggy/10000/moon": "pending",
        "transfer/buggy/10001/g9.5": "pending", "transfer/buggy/10001/moon": "pending",
        "training-context/buggy/10000": "pending", "training-context/buggy/10001": "pending"}
    assert all("KeyError: 'thrust'" in error[0] for _, status, error in jobs
               if status == "failed")
    # learning; seeds x tests x instances x trials; seeds x training-context episodes
    assert len(episodes) == 2 * 2 + 2 * 2 * 2 * 2 + 2 * 2
    assert len({row["episode_return"] for row in episodes}) > 1  # not one row copied


def test_a_worker_killed_mid_job_is_retried_without_duplicates(tmp_path, local_ray):
    marker = tmp_path / "died"
    spec = spec_from_text(tmp_path, DIES_ONCE.replace("MARKER", str(marker)))
    out = out_folder(tmp_path / "out")
    store_path = run_experiment(spec, out, workers=2, backend="ray")
    assert marker.exists()  # the first attempt killed its worker process
    with ResultsStore(store_path) as store:
        assert {j["job_id"]: j["status"] for j in store.jobs("dies:quick")} == {
            "learn/dies/10000": "done", "transfer/dies/10000/moon": "done",
            "transfer/dies@criterion/10000/moon": "done",  # a learner; skipped: never met
            "training-context/dies/10000": "done"}
        learn = store.episodes("dies:quick", kind="learn")
        transfer = store.episodes("dies:quick", kind="transfer")
    assert [row["episode"] for row in learn] == [0, 1, 2]  # each once, none lost
    assert [(row["instance"], row["episode"]) for row in transfer] == [
        (0, 0), (0, 1), (1, 2), (1, 3)]
    run_log = (out / "runs" / "dies" / "10000" / "run.log").read_text()
    assert "resumed run" in run_log  # the retry continued the partly done run folder


# ----------------------------------------------------------------- a cluster of two
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def stop(node: subprocess.Popen) -> None:
    """Stop a ``ray start --block`` node: politely, then its whole process group."""
    if node.poll() is None:
        node.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            node.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(node.pid, signal.SIGKILL)  # its own group: start_new_session
    node.wait(timeout=20)


def test_a_two_node_cluster_on_this_machine_runs_a_compare(tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'exgen[ray]'")
    ray_cli = Path(sys.executable).with_name("ray")
    if not ray_cli.exists():
        pytest.skip(f"no ray command beside {sys.executable}")
    port, client_port = free_port(), free_port()
    address = f"{NODE_IP}:{port}"
    temp = Path(tempfile.mkdtemp(prefix="exray-", dir="/tmp"))
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16),
           "RAY_USAGE_STATS_ENABLED": "0", "RAY_TMPDIR": str(temp)}
    env.pop("RAY_ADDRESS", None)
    common = ["--block", "--num-cpus=1", f"--node-ip-address={NODE_IP}",
              "--object-store-memory=100000000", f"--temp-dir={temp}",
              "--disable-usage-stats"]
    nodes: list[subprocess.Popen] = []

    def start(name: str, *arguments: str) -> None:
        with (temp / f"{name}.log").open("w") as log:
            nodes.append(subprocess.Popen([str(ray_cli), "start", *arguments, *common],
                                          stdout=log, stderr=subprocess.STDOUT, env=env,
                                          cwd=REPO, start_new_session=True))

    def cannot(what: str) -> None:
        logs = " | ".join((temp / f"{name}.log").read_text()[-300:].replace("\n", " ")
                          for name in ("head", "worker") if (temp / f"{name}.log").exists())
        pytest.skip(f"cannot {what} in this sandbox: {logs}")

    try:
        start("head", "--head", f"--port={port}", f"--ray-client-server-port={client_port}",
              "--include-dashboard=false")
        deadline = time.monotonic() + 60
        while not answers(NODE_IP, port):
            if nodes[0].poll() is not None or time.monotonic() > deadline:
                cannot("start a Ray head")
            time.sleep(0.5)
        start("worker", f"--address={address}")
        alive = subprocess.run(
            [sys.executable, "-c", NODES_ALIVE, address], capture_output=True, text=True,
            env=env, cwd=REPO, timeout=120)
        if alive.stdout.strip() != "2":
            cannot(f"join a second node (alive: {alive.stdout.strip()!r}, "
                   f"{alive.stderr.strip()[-200:]!r})")
        spec_path = tmp_path / "micro.toml"
        spec_path.write_text(MICRO, encoding="utf-8")
        out = out_folder(tmp_path / "out")  # the nodes share this machine's filesystem
        # No --workers: two in flight, the cluster's CPUs, one task on each 1-CPU node.
        result = subprocess.run(
            [sys.executable, "-m", "exgen.scripts.cli", "compare", str(spec_path), "--out",
             str(out), "--backend", "ray", "--address", address, "--no-progress",
             "--no-gifs"], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        for node in reversed(nodes):
            stop(node)
        shutil.rmtree(temp, ignore_errors=True)
    jobs, episodes = contents(out / "results.sqlite", "micro:quick")
    assert sorted(status for _, status, _ in jobs) == ["done"] * 8 + ["failed"] * 2 + [
        "pending"] * 6
    assert len(episodes) == 2 * 2 + 2 * 2 * 2 * 2 + 2 * 2
    assert (out / "runs" / "steady" / "10001" / "monitor.csv").exists()  # written by a node
    assert (out / "report" / "report.md").exists()


#: Prints how many nodes of the cluster at argv[1] are alive, once both are (or 60 s).
NODES_ALIVE = """
import logging, sys, time
import ray
ray.init(address=sys.argv[1], log_to_driver=False, logging_level=logging.ERROR)
deadline = time.monotonic() + 60
alive = 0
while time.monotonic() < deadline:
    alive = sum(node["Alive"] for node in ray.nodes())
    if alive >= 2:
        break
    time.sleep(0.5)
print(alive)
ray.shutdown()
"""


def test_a_local_ray_instance_runs_a_compare_from_the_cli(tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'exgen[ray]'")
    spec_path = tmp_path / "micro.toml"
    spec_path.write_text(SMALL, encoding="utf-8")
    out = out_folder(tmp_path / "out")
    # Ray's single-machine mode: every address on loopback, as on macOS.
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
           "RAY_USAGE_STATS_ENABLED": "0", "RAY_TMPDIR": tempfile.mkdtemp(prefix="exray-")}
    env.pop("RAY_ADDRESS", None)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "exgen.scripts.cli", "compare", str(spec_path), "--out",
             str(out), "--backend", "ray", "--workers", "1", "--no-progress", "--no-gifs"],
            capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    finally:
        shutil.rmtree(env["RAY_TMPDIR"], ignore_errors=True)
    assert result.returncode == 0, result.stderr[-2000:]
    jobs, episodes = contents(out / "results.sqlite", "small:quick")
    assert [(job_id, status) for job_id, status, _ in jobs] == [
        ("learn/steady/10000", "done"), ("training-context/steady/10000", "done"),
        ("transfer/steady/10000/g9.5", "done")]
    assert [(row["kind"], row["episode"]) for row in episodes] == [
        ("learn", 0), ("learn", 1), ("training-context", 0), ("transfer", 0), ("transfer", 1)]


# ----------------------------------------------------------------- bad input
def compare(capsys, tmp_path, *arguments: str) -> tuple[int, list[str]]:
    spec_path = tmp_path / "micro.toml"
    spec_path.write_text(MICRO, encoding="utf-8")
    try:
        code = main(["compare", str(spec_path), "--out", str(tmp_path / "out"),
                     "--no-progress", *arguments])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    return code, capsys.readouterr().err.strip().splitlines()


def test_an_unknown_backend_is_one_line(tmp_path, capsys):
    code, lines = compare(capsys, tmp_path, "--backend", "dask")
    assert code == 2 and len(lines) == 1 and "invalid choice: 'dask'" in lines[0]


def test_an_address_needs_the_ray_backend(tmp_path, capsys):
    code, lines = compare(capsys, tmp_path, "--address", "127.0.0.1:6379")
    assert code == 2 and lines == ["exgen compare: error: --address is the Ray cluster's; "
                                   "add --backend ray"]
    assert not (tmp_path / "out").exists()


def test_the_ray_backend_without_ray_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code, lines = compare(capsys, tmp_path, "--backend", "ray")
    assert code == 2 and len(lines) == 1
    assert "pip install 'exgen[ray]'" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("address", "message"), [
    ("nowhere", "a Ray address is HOST:PORT"),
    ("FREE", "no Ray cluster answers at 127.0.0.1:"),
])
def test_an_address_without_a_cluster_is_one_line(tmp_path, capsys, address, message):
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'exgen[ray]'")
    address = f"127.0.0.1:{free_port()}" if address == "FREE" else address
    code, lines = compare(capsys, tmp_path, "--backend", "ray", "--address", address)
    assert code == 2 and len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "out").exists()
