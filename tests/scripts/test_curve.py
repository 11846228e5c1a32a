"""``exgen curve``: a run's learning curve as Markdown tables, a figure, one-line errors."""

import json

import numpy as np
import pytest

from exgen.agents.records import EpisodeLog, EpisodeRecord, read_log
from exgen.scripts.cli import main


def write_run(folder, *, evaluations: bool = True) -> None:
    """A city run by hand: five episodes over 2.5 buckets of 1000 steps, two evaluations."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps({"agent": "ppo", "env_id": "CityDriving-v0",
                                                 "tuning": True}))
    (folder / "summary.json").write_text(json.dumps({"status": "running"}))
    log = EpisodeLog(folder, "CityDriving-v0")
    for index, (steps, outcome, red) in enumerate([(400, "collision", 1), (1000, "gave_up", 0),
                                                   (1500, "arrived", 0), (1900, "arrived", 3),
                                                   (2300, "arrived", 0)]):
        log.write(EpisodeRecord(episode=index, total_steps=steps, episode_return=1.0,
                                length=100 * (index + 1), is_success=outcome == "arrived",
                                outcome=outcome, wall_time=float(index), agent="ppo",
                                context={}, infractions={"red_light": red, "off_road": 0}))
    log.close()
    if evaluations:
        np.savez(folder / "evaluations.npz", timesteps=[1000, 2000], episodes=[2, 4],
                 results=[[-1.0, -2.0], [5.0, 6.0]], ep_lengths=[[9, 9], [9, 9]],
                 successes=[[False, False], [True, False]])


def test_the_curve_is_printed_as_markdown_tables(tmp_path, capsys):
    write_run(tmp_path / "run")
    assert main(["curve", str(tmp_path / "run"), "--every", "1000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("**run**: ppo on CityDriving-v0, running; 5 finished training "
                          "episodes, 2,300 env steps (`exgen curve")
    assert ("| steps [M] | episodes | success | arrived | collision | gave_up | mean length "
            "| red_light/ep | off_road/ep |") in out
    assert "| 0.001 | 2 | 0.0% | 0.0% | 50.0% | 50.0% | 150.0 | 0.50 | 0.00 |" in out
    assert "| 0.002 | 2 | 100.0% | 100.0% | 0.0% | 0.0% | 350.0 | 1.50 | 0.00 |" in out
    assert "| 0.003 | 1 | 100.0% | 100.0% | 0.0% | 0.0% | 500.0 | 0.00 | 0.00 |" in out
    assert "The last bucket is partial: the log ends at 2,300 env steps." in out
    assert "Evaluations (tuning seeds):" in out
    assert "| 0.001 | 2 | 2 | 0.0% | -1.50 |" in out
    assert "| 0.002 | 4 | 2 | 50.0% | 5.50 |" in out


def test_every_defaults_to_half_a_million_steps(tmp_path, capsys):
    write_run(tmp_path, evaluations=False)
    assert main(["curve", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "buckets of 500,000 steps" in out
    assert "| 0.5 | 5 | 60.0% | 60.0% | 20.0% | 20.0% | 300.0 | 0.80 | 0.00 |" in out
    assert "No evaluation yet (evaluations.npz is absent)." in out


def test_plot_writes_a_png(tmp_path, capsys):
    write_run(tmp_path / "run")
    figure = tmp_path / "figures" / "curve.png"
    assert main(["curve", str(tmp_path / "run"), "--every", "1000", "--plot",
                 str(figure)]) == 0
    assert f"wrote {figure}" in capsys.readouterr().out
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 10_000


def test_a_run_without_finished_episodes_prints_an_empty_table(tmp_path, capsys):
    EpisodeLog(tmp_path, "LunarLanding-v0").close()
    assert main(["curve", str(tmp_path), "--plot", str(tmp_path / "empty.png")]) == 0
    out = capsys.readouterr().out
    assert "| steps [M] | episodes | success | mean length |\n|---:|---:|---:|---:|\n" in out
    assert "No finished training episode yet." in out
    assert (tmp_path / "empty.png").exists()


def test_a_run_being_written_is_read_to_its_last_finished_episode(tmp_path, capsys):
    write_run(tmp_path)
    log = tmp_path / "monitor.csv"
    log.write_bytes(log.read_bytes() + b'1.0,600,5.0,5,2900,1,arrived,ppo,,"{}","{""red_li')
    assert main(["curve", str(tmp_path), "--every", "1000"]) == 0
    assert "5 finished training episodes, 2,300 env steps" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["{tmp}/absent"], "{tmp}/absent: no such folder"),
    (["{tmp}"], "{tmp} is not a training run: it has no monitor.csv"),
    (["{run}", "--every", "0"], "--every must be > 0 env steps, got 0"),
    (["{run}", "--every", "-5"], "--every must be > 0 env steps, got -5"),
    (["{run}", "--plot", "{run}/curve.unknown"], "Format 'unknown' is not supported"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, args, message):
    write_run(tmp_path / "run")
    fill = {"tmp": tmp_path, "run": tmp_path / "run"}
    assert main(["curve", *(a.format(**fill) for a in args)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("exgen curve: error: ") and message.format(**fill) in err


def test_the_curve_of_a_real_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--agent", "random", "--env", "LunarLanding-v0", "--episodes", "5",
                 "--eval-every", "300", "--eval-episodes", "2", "--checkpoint-every", "1000",
                 "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    capsys.readouterr()
    assert main(["curve", str(out), "--every", "1000000", "--plot",
                 str(tmp_path / "curve.png")]) == 0
    printed = capsys.readouterr().out
    assert (f"**run**: random on LunarLanding-v0, finished; 5 finished training episodes, "
            f"{summary['total_steps']:,} env steps") in printed
    successes = sum(r["is_success"] == "1" for r in read_log(out / "monitor.csv"))
    assert f"| 1 | 5 | {100 * successes / 5:.1f}% |" in printed
    with np.load(out / "evaluations.npz") as data:
        timesteps = data["timesteps"].tolist()
    table = printed.split("Evaluations:")[1].splitlines()
    evaluation_rows = [line for line in table if line.startswith("| ")][1:]  # below the header
    assert [row.split(" | ")[0] for row in evaluation_rows] == [f"| {t / 1e6:.6g}"
                                                                for t in timesteps]
    assert (tmp_path / "curve.png").stat().st_size > 10_000


def test_output_piped_into_a_reader_that_stops_ends_quietly(tmp_path):
    import subprocess
    import sys

    log = EpisodeLog(tmp_path / "run", "LunarLanding-v0")
    for index in range(3000):  # a table of 3,000 rows, more than a pipe holds
        log.write(EpisodeRecord(episode=index, total_steps=index + 1, episode_return=1.0,
                                length=1, is_success=True, outcome="landed", wall_time=0.0,
                                agent="ppo", context={}))
    log.close()
    command = [sys.executable, "-c", "import sys; from exgen.scripts.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "curve", str(tmp_path / "run"), "--every", "1"]
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.readline()
    reader.stdout.close()  # as `| head -1` does
    _, errors = reader.communicate(timeout=120)
    assert b"Traceback" not in errors and b"BrokenPipeError" not in errors
