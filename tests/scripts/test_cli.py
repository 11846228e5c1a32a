"""The ``exgen`` command: subcommands run, and bad input is one line with exit code 2."""

import subprocess
import sys

import pytest

from exgen.scripts.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exgen.scripts.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_demo_writes_a_gif_and_a_png(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--seed", "1"]) == 0
    assert (tmp_path / "landing.gif").stat().st_size > 1000
    assert (tmp_path / "landing.png").stat().st_size > 1000
    assert "outcome landed" in capsys.readouterr().out


def test_city_demo_drives_to_the_destination(tmp_path, capsys):
    assert main(["demo", "--world", "city", "--out", str(tmp_path), "--seed", "1"]) == 0
    assert (tmp_path / "drive.gif").stat().st_size > 1000
    assert "outcome arrived, success True" in capsys.readouterr().out


def test_the_scripted_city_driver_is_measured_per_preset(capsys):
    assert main(["heuristic", "--world", "city", "--preset", "left_hand", "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert "| default | 100% |" in out and "| preset left_hand | 100% |" in out


def test_bench_prints_the_ratio_against_lunar_lander_v3(capsys):
    assert main(["bench", "--steps", "300", "--repeats", "1", "--profile"]) == 0
    out = capsys.readouterr().out
    assert "LunarLander-v3" in out
    assert "ratio LunarLanding-v0 / LunarLander-v3:" in out
    assert "physics (pymunk world step)" in out


@pytest.mark.parametrize("args", [
    ["demo", "--preset", "vulcan"],
    ["demo", "--seed", "-1"],
    ["demo", "--world", "city", "--preset", "snow"],
    ["heuristic", "--world", "city", "--gravity", "3"],
    ["bench", "--steps", "lots"],
    ["bench", "--steps", "0"],
    ["heuristic", "--seeds", "0"],
    ["bench", "planner", "--variant", "mars"],
    ["bench", "city-planner", "--variant", "snow"],
    ["bench", "city-planner", "--seed", "5"],
    ["compare", "nope"],
    ["compare", "gravity-shift", "--preset", "huge"],
    ["compare", "gravity-shift", "--workers", "0"],
    ["report", "gravity-shift", "--out", "/nonexistent-folder"],
    ["bench", "planner", "--seed", "5"],
    ["bench", "planner", "--worlds", "0"],
    ["bench", "train", "--seconds", "0"],
    ["bench", "train", "--setups", "today", "huge"],
    ["heuristic", "--controller", "ppo"],
    ["heuristic", "--preset", "vulcan", "--seeds", "1"],
    ["launch"],
    [],
])
def test_bad_input_exits_2_with_one_line(args):
    result = run_cli(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_heuristic_prints_a_success_table(capsys):
    assert main(["heuristic", "--gravity", "9.81", "3.71", "--preset", "strong_wind",
                 "--seeds", "3"]) == 0
    out = capsys.readouterr().out
    assert "| gravity 9.81 | 100% |" in out
    assert "| preset strong_wind |" in out


def test_heuristic_runs_gymnasiums_heuristic(capsys):
    assert main(["heuristic", "--controller", "gymnasium", "--seeds", "2"]) == 0
    assert "heuristic gymnasium" in capsys.readouterr().out


def test_bench_planner_prints_its_summary_and_seeds(capsys):
    assert main(["bench", "planner", "--worlds", "2", "--trials", "1", "--seed",
                 "1000000"]) == 0
    out = capsys.readouterr().out
    assert '"seeds": [\n    1000000,\n    1000001\n  ]' in out
    assert "success_trial_1" in out and "| gravity [m/s²] |" in out
    assert '"control_period": 20.0' in out and "max_over_control_period" in out


def test_bench_held_out_prints_each_path_against_the_sequential_one(capsys):
    assert main(["bench", "held-out", "--worlds", "2", "--trials", "1"]) == 0
    out = capsys.readouterr().out
    assert "records differing from sequential: 0 of 2" in out
    assert "batched / sequential:" in out and "lockstep / sequential:" in out


def test_heuristic_runs_gymnasiums_heuristic_on_lunar_lander_v3(capsys):
    assert main(["heuristic", "--on-lunar-lander-v3", "--gravity", "9.81", "--seeds", "2"]) == 0
    assert "| 9.81 |" in capsys.readouterr().out
    assert main(["heuristic", "--on-lunar-lander-v3", "--gravity", "24.79"]) == 2
