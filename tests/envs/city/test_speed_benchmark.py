"""The CityDriving-v0 speed benchmark and ``exgen bench city``: small and fast."""

from __future__ import annotations

import math

import pytest

from exgen.envs.city import speed_benchmark as benchmark
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
