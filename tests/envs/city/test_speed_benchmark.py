"""The CityDriving-v0 speed benchmark and ``exgen bench city`` (``--batch N``: the batched
world): small and fast, asserting what is measured and printed, never timings."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

from exgen.envs.city import speed_benchmark as benchmark
from exgen.envs.speed_benchmark import Throughput
from exgen.scripts import bench
from exgen.scripts.cli import main


def test_city_measurement_returns_a_positive_throughput():
    result = benchmark.measure_city(steps=50, repeats=1)
    assert result.env_id == "CityDriving-v0"
    assert result.steps == 50
    assert result.steps_per_second > 0.0
    assert result.microseconds_per_step == pytest.approx(1e6 / result.steps_per_second)


def test_profile_components_are_finite_and_end_with_the_total():
    components = benchmark.profile_components(steps=50)
    assert list(components)[-1] == "total (gym.make)"
    assert components["total (gym.make)"] > 0.0
    assert components["vehicle physics (advance x substeps)"] > 0.0
    assert components["lidar (one ray cast: roads, roadworks, cars, people)"] > 0.0
    assert components["road users (traffic: IDM, lights, reservations; pedestrians)"] > 0.0
    assert all(math.isfinite(value) for value in components.values())


def test_bad_counts_are_rejected():
    with pytest.raises(ValueError, match="peer_steps must be >= 1"):
        benchmark.compare(steps=10, peer_steps=0)
    with pytest.raises(ValueError, match="unknown peer"):
        benchmark.compare(steps=10, peers=["racetrack-v0"])


def test_cli_without_highway_env_prints_ours_and_how_to_install(capsys, monkeypatch):
    monkeypatch.setattr(benchmark, "highway_env_available", lambda: False)
    assert main(["bench", "city", "--steps", "200", "--peer-steps", "5", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "CityDriving-v0" in out and "steps/s" in out
    assert "highway-env unavailable" in out and ".[bench]" in out
    assert "ratio" not in out


def test_cli_prints_the_ratio_against_intersection_v0(capsys):
    pytest.importorskip("highway_env")
    assert main(["bench", "city", "--steps", "200", "--peer-steps", "5", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "intersection-v0" in out
    assert "ratio CityDriving-v0 / intersection-v0:" in out


@pytest.mark.parametrize("args", [["--peer-steps", "0"], ["--steps", "0"], ["--repeats", "0"]])
def test_cli_bad_counts_exit_2_with_one_line(capsys, args):
    assert main(["bench", "city", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "must be >= 1" in err


# ------------------------------------------------------------ the batched world
def _comparison(num_envs: int, batched: float, single: float) -> benchmark.BatchComparison:
    return benchmark.BatchComparison(
        num_envs, Throughput(f"CityDriving-v0 x {num_envs}", 4096, 1, batched),
        Throughput("CityDriving-v0", 4096, 1, single), 0)


def test_batch_comparison_measures_both_on_at_least_the_steps_asked():
    results = benchmark.compare_batch([1, 3], steps=10, repeats=2, seed=1)
    assert [r.num_envs for r in results] == [1, 3]
    # 10 env steps over 3 cities: 4 decisions each, 12 env steps.
    assert [r.batched.steps for r in results] == [10, 12]
    assert all(r.single.steps == 10 and r.batched.repeats == 2 for r in results)
    for r in results:
        assert r.batched.steps_per_second > 0.0 and r.single.steps_per_second > 0.0
        assert r.speedup == pytest.approx(r.batched.steps_per_second
                                          / r.single.steps_per_second)
        assert r.episode_ends == 0


def test_measure_batch_resets_ended_cities_and_counts_them():
    vec = gym.make_vec("CityDriving-v0", num_envs=2, vectorization_mode="vector_entry_point",
                       preset="rush_hour")
    # Random steering at full throttle: collisions within a few hundred decisions.
    actions = benchmark.batch_actions(300, 2, seed=0)
    actions[:, :, 1] = 1.0
    rate, ends = benchmark.measure_batch(vec, actions, repeats=1, seed=0)
    assert rate > 0.0 and ends >= 2
    vec.reset(seed=0)
    ended = sum(int(np.count_nonzero(t | u)) for _, _, t, u, _ in map(vec.step, actions))
    assert ends == ended
    vec.close()


@pytest.mark.parametrize(("batched", "single", "verdict"), [
    (120_000, 10_000, "stretch goal met"),
    (60_000, 5_000, "goal met"),
    (30_000, 3_000, "above the floor, short of the goal (50,000)"),
    (60_000, 10_000, "goal not met"),
    (20_000, 1_000, "goal not met"),
])
def test_goal_verdict_at_256_cities(batched, single, verdict):
    assert benchmark.goal_verdict(_comparison(256, batched, single)).startswith(verdict)


def test_goal_verdict_is_only_for_256_cities():
    assert benchmark.goal_verdict(_comparison(64, 120_000, 1_000)) is None


def test_one_thread_holds_numba_and_says_how_to_hold_blas(monkeypatch):
    numba = pytest.importorskip("numba")
    before = numba.get_num_threads()
    real = benchmark._optional
    monkeypatch.setattr(benchmark, "_optional",
                        lambda name: None if name == "threadpoolctl" else real(name))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    with benchmark.one_thread() as held:
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    assert held.startswith("numba 1 thread") and "OMP_NUM_THREADS=1" in held
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    with benchmark.one_thread() as held:
        assert held.endswith("BLAS OPENBLAS_NUM_THREADS=1")


def test_profile_batch_lists_the_top_functions_by_own_time():
    rows = benchmark.profile_batch(2, steps=16, top=400)
    own = [row[2] for row in rows]
    assert own == sorted(own, reverse=True) and all(math.isfinite(t) for t in own)
    assert all(isinstance(calls, int) and calls >= 1 for _, calls, _, _ in rows)
    # The vector env's step holds everything else: the largest cumulative time.
    step = max(rows, key=lambda row: row[3])
    assert step[0].startswith("vector_env.py:") and step[0].endswith("(step)")
    assert step[1] == 8
    assert len(benchmark.profile_batch(2, steps=4, top=3)) == 3


@pytest.mark.parametrize(("call", "match"), [
    (lambda: benchmark.compare_batch([0], steps=4), "number of cities .* got 0"),
    (lambda: benchmark.compare_batch([2.5], steps=4), "number of cities .* got 2.5"),
    (lambda: benchmark.compare_batch([True], steps=4), "number of cities .* got True"),
    (lambda: benchmark.compare_batch([], steps=4), "at least one number of cities"),
    (lambda: benchmark.compare_batch([1], steps=0), "steps must be >= 1"),
    (lambda: benchmark.profile_batch(70_000, steps=4), "got 70000"),
    (lambda: benchmark.profile_batch(2, top=0), "top must be >= 1"),
])
def test_bad_batch_arguments_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_cli_batch_prints_both_rates_the_ratio_and_the_goal(capsys):
    assert main(["bench", "city", "--batch", "1", "2", "--steps", "8"]) == 0
    out = capsys.readouterr().out
    assert "8 env steps per measurement" in out and "numba 1 thread" in out
    assert "goal: 50,000 env steps/s at 256 cities (stretch 100,000); not met below 25,000 " \
           "or below 8x the single env" in out
    rows = [line.split() for line in out.splitlines() if line[:6].strip().isdigit()]
    assert [row[0] for row in rows] == ["1", "2"]
    for row in rows:
        batched, single = (float(x.replace(",", "")) for x in row[1:3])
        assert batched > 0.0 and single > 0.0 and row[3].endswith("x")
        assert float(row[3][:-1]) == pytest.approx(batched / single, abs=0.01, rel=0.02)
    assert "goal met" not in out and "top functions" not in out


def test_cli_batch_prints_the_verdict_at_256_cities(capsys, monkeypatch):
    monkeypatch.setattr(benchmark, "compare_batch", lambda n, steps, repeats, seed, fields: [
        _comparison(64, 30_000, 6_000), _comparison(256, 60_000, 6_000)])
    assert main(["bench", "city", "--batch", "64", "256"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].split()[:4] == ["64", "30,000", "6,000", "5.00x"]
    assert lines[-2].endswith(" 0")
    assert lines[-1].split()[:4] == ["256", "60,000", "6,000", "10.00x"]
    assert lines[-1].endswith("goal met")


def test_cli_batch_profile_lists_functions_of_the_largest_batch(capsys):
    assert main(["bench", "city", "--batch", "2", "1", "--steps", "4", "--profile"]) == 0
    out = capsys.readouterr().out
    assert "top functions of the batched world of 2 cities" in out
    listed = out.split("function\n")[1].splitlines()
    assert len(listed) == bench.PROFILE_TOP


def test_cli_batch_measures_the_city_with_the_context_given(capsys, monkeypatch):
    made = []
    make = benchmark.make_city_batch
    monkeypatch.setattr(benchmark, "make_city_batch",
                        lambda n, **fields: made.append(fields) or make(n, **fields))
    assert main(["bench", "city", "--batch", "2", "--steps", "4", "--context",
                 "observe_road_users=true"]) == 0
    assert "pedestrian_density=0.1, observe_road_users=True)" in capsys.readouterr().out
    assert made and all(fields == {"observe_road_users": True} for fields in made)


@pytest.mark.parametrize("args", [
    ["city", "--context", "observe_road_users=true"],
    ["city", "--batch", "0"],
    ["city", "--batch", "65537"],
    ["city", "--batch", "x"],
    ["city", "--batch"],
    ["city", "--batch", "2", "--steps", "0"],
    ["city", "--batch", "2", "--repeats", "0"],
    ["--batch", "2"],
    ["planner", "--batch", "2"],
])
def test_cli_bad_batch_input_exits_2_with_one_line(capsys, args):
    try:
        code = main(["bench", *args])
    except SystemExit as error:  # argparse's own errors
        code = error.code
    assert code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "--batch" in err or "must be >= 1" in err or "--context" in err
