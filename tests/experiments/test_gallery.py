"""The report's GIFs of the agents at work: recorded per agent at a training and a test
context, embedded in report.md and report.html, skipped on request, and a missing run
reported instead of failing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from PIL import Image

from exgen.experiments.gallery import _FrameTaker, gallery_markdown, record_gallery
from exgen.experiments.report import write_report
from exgen.experiments.scheduler import run_experiment
from exgen.experiments.spec import ExperimentSpec
from exgen.scripts.cli import main
from tests.experiments.test_compare import MICRO, spec_from_text

#: test_compare's micro spec, smaller: one seed, one instance, one trial.
TINY = (MICRO.replace("seeds = [10000, 10001]", "seeds = [10000]")
        .replace("trials = 2", "trials = 1").replace("instances = 2", "instances = 1"))
AGENTS = ("random", "planner")


def tiny_experiment(folder: Path) -> tuple[ExperimentSpec, Path]:
    """A run of the tiny spec (its learning of ``buggy`` fails) in ``folder``/out:
    the spec and the store's path."""
    spec = spec_from_text(folder, TINY, "tiny.toml")
    return spec, run_experiment(spec, folder / "out", workers=2)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExperimentSpec, Path]:
    return tiny_experiment(tmp_path_factory.mktemp("gallery"))


def test_the_report_embeds_a_gif_per_agent_at_train_and_test(experiment, tmp_path):
    spec, store = experiment
    report = write_report(spec, store, tmp_path / "report")
    text = report.read_text()
    html = (report.parent / "report.html").read_text()
    assert "## Agents at work" in text
    for agent in AGENTS:
        for where in ("train", "test"):
            gif = report.parent / "gifs" / f"{agent}-{where}.gif"
            with Image.open(gif) as image:
                assert image.format == "GIF" and image.n_frames > 1
                assert image.width == 300 and image.height == 200  # 600 x 400 halved
            assert f"![{agent}-{where}](gifs/{agent}-{where}.gif)" in text
    assert html.count("data:image/gif;base64,") == 4
    assert "- training context (gravity [9, 10]): " in text
    assert "- test `g9.5` (gravity 9.5): " in text
    held_out = json.loads((Path(store).parent / "held_out_seed.json").read_text())
    assert f"reset with the held-out seed {held_out['held_out_seed']}." in text
    assert "- not recorded: its learning failed (job learn/buggy/10000" in text
    assert not (report.parent / "gifs" / "buggy-train.gif").exists()


def test_no_gifs_writes_none(experiment, tmp_path):
    _, store = experiment
    out = tmp_path / "copy"
    shutil.copytree(Path(store).parent, out)
    spec_file = Path(store).parent.parent / "tiny.toml"
    export = tmp_path / "episodes.parquet"
    assert main(["report", str(spec_file), "--out", str(out), "--no-gifs", "--export",
                 str(export)]) == 0
    assert (out / "report" / "report.md").exists()
    import pandas as pd

    assert len(pd.read_parquet(export)) > 0 and "infractions" in pd.read_parquet(export)
    assert main(["report", str(spec_file), "--out", str(out), "--export",
                 str(tmp_path / "episodes.xlsx")]) == 2
    assert not list(out.rglob("*.gif"))
    assert "Agents at work" not in (out / "report" / "report.md").read_text()
    assert "image/gif" not in (out / "report" / "report.html").read_text()


def test_a_missing_run_is_reported_not_fatal_and_the_test_can_be_chosen(experiment,
                                                                        tmp_path):
    spec, store = experiment
    copy = tmp_path / "out"
    shutil.copytree(Path(store).parent, copy)
    shutil.rmtree(copy / "runs" / "random")
    clips = record_gallery(spec, copy, tmp_path / "gifs", test="moon")
    assert [(c.agent, c.where, c.path is not None, c.note) for c in clips
            if c.agent == "random"] == [
        ("random", "train", False, "no run folder runs/random/10000"),
        ("random", "test", False, "no run folder runs/random/10000")]
    planner = next(c for c in clips if c.agent == "planner" and c.where == "test")
    assert planner.context == "test `moon` (preset moon)"
    assert planner.path is not None and planner.path.stat().st_size > 0
    assert "- not recorded: no run folder runs/random/10000." in gallery_markdown(clips)
    with pytest.raises(ValueError, match="unknown test context 'mars'"):
        record_gallery(spec, copy, tmp_path / "gifs", test="mars")


def test_frames_cover_the_whole_episode_within_the_cap():
    env = gym.make("LunarLanding-v0", render_mode="rgb_array")
    taker = _FrameTaker(env, every=1, max_frames=8, width_px=150)
    taker.reset(seed=3)
    steps, done = 0, False
    while not done:
        _, _, terminated, truncated, _ = taker.step(0)  # no engine: a free fall
        steps, done = steps + 1, terminated or truncated
    last = np.asarray(Image.fromarray(env.render()).resize((150, 100),
                                                           Image.Resampling.LANCZOS))
    env.close()
    assert 4 <= len(taker.frames) <= 9  # at most max_frames + the end
    assert taker.every > 1
    assert 0 < steps - (len(taker.frames) - 2) * taker.every <= taker.every  # no gap
    assert all(frame.shape == (100, 150, 3) for frame in taker.frames)
    np.testing.assert_array_equal(taker.frames[-1], last)  # the end is shown


def test_an_edited_spec_is_neither_reported_nor_resumed_into_an_old_store(experiment,
                                                                         tmp_path, capsys):
    _, store = experiment
    out = tmp_path / "copy"
    shutil.copytree(Path(store).parent, out)
    shutil.rmtree(out / "report", ignore_errors=True)
    edited = tmp_path / "tiny.toml"
    edited.write_text(TINY.replace("trials = 1", "trials = 2"))
    for command in ("report", "compare"):
        assert main([command, str(edited), "--out", str(out), "--no-gifs"]) == 2
        error = capsys.readouterr().err.strip().splitlines()
        assert len(error) == 1 and "the spec changed since" in error[0]
        assert "(field 'trials')" in error[0]
    assert not (out / "report" / "report.md").exists()
