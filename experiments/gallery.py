"""Short GIFs of each agent at work, for the report's "Agents at work" section.

Per agent of a spec: one deterministic episode at its first training context and one
at a chosen test context (the spec's first test by default; as its first transfer
instance, so a ``per_instance`` field is the held-out seed), played by the agent as it
was after learning on the spec's first seed. The agent is loaded afresh for each episode,
as a transfer trial starts, and may learn during it as in a transfer trial (the planner
does). Every episode is reset with the experiment's held-out seed, never a training seed.

Frames are kept after the reset, every ``frame_skip`` env steps and at the end,
downscaled to ``width_px`` and mapped to one palette of ``PALETTE_COLORS`` for the whole
episode (which halves a GIF of a city drive). Once an episode would give more than
``max_frames`` frames, every other frame is dropped and the step between frames doubled,
so a GIF always shows the whole episode in at most ``max_frames + 1`` frames; it plays
at ``GIF_FPS``.
An agent that cannot be recorded (no run folder, failed learning, an error while
playing) is listed with the reason instead, and the report goes on.
"""

from __future__ import annotations

import json
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import exgen  # noqa: F401  (registers the env ids)
from exgen.envs.recording import save_gif
from exgen.experiments.scheduler import agent_env_kwargs, instance_context, run_folder
from exgen.experiments.spec import AgentSpec, ExperimentSpec

#: Playback rate of every GIF [frames/s].
GIF_FPS = 10.0
#: The last frame is held this long [s] so the outcome can be seen before the loop.
HOLD_LAST_S = 1.5
#: Colours of the palette that all frames of a GIF share.
PALETTE_COLORS = 128
#: Folder of the GIFs inside the report folder.
GIF_FOLDER = "gifs"


@dataclass(frozen=True)
class Clip:
    """One recorded episode of an agent, or why it was not recorded."""

    agent: str
    where: str  #: "train" or "test"
    context: str  #: a description of the context, e.g. "test `moon` (preset moon)"
    path: Path | None  #: the GIF; None when not recorded
    note: str  #: the episode's outcome, or the reason it was not recorded
    seed: int | None = None  #: the held-out seed of the episode's reset


class _FrameTaker(gym.Wrapper):
    """Keeps downscaled frames of the episode being played (see the module docstring)."""

    def __init__(self, env: gym.Env, every: int, max_frames: int, width_px: int) -> None:
        super().__init__(env)
        self.every = every
        self.max_frames = max_frames
        self.width_px = width_px
        self.frames: list[np.ndarray] = []
        self.steps = 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        result = self.env.reset(**kwargs)
        self.frames, self.steps = [self._frame()], 0
        return result

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        result = self.env.step(action)
        self.steps += 1
        if result[2] or result[3]:
            self.frames.append(self._frame())  # the end is always shown
        elif self.steps % self.every == 0:
            self.frames.append(self._frame())
            if len(self.frames) > self.max_frames:
                self.frames = self.frames[::2]
                self.every *= 2
        return result

    def _frame(self) -> np.ndarray:
        from PIL import Image

        frame = Image.fromarray(self.env.render())
        if frame.width > self.width_px:
            height = round(frame.height * self.width_px / frame.width)
            frame = frame.resize((self.width_px, height), Image.Resampling.LANCZOS)
        return np.asarray(frame)


def agents_at_work(spec: ExperimentSpec, experiment: str | Path, report: str | Path,
                   jobs: list[dict[str, Any]] | None = None, test: str | None = None,
                   **recording: Any) -> str:
    """Record the gallery of ``spec`` into ``report``/gifs; return its Markdown section.

    ``experiment`` is the folder of the store, ``runs/`` and ``held_out_seed.json``;
    ``jobs`` (the store's rows) lets an agent whose learning failed be skipped by name;
    ``recording`` goes to :func:`record_gallery`.
    """
    clips = record_gallery(spec, experiment, Path(report) / GIF_FOLDER, jobs, test,
                           **recording)
    return gallery_markdown(clips)


def record_gallery(spec: ExperimentSpec, experiment: str | Path, out: str | Path,
                   jobs: list[dict[str, Any]] | None = None, test: str | None = None,
                   frame_skip: int | None = None, max_frames: int = 150,
                   width_px: int = 300) -> list[Clip]:
    """Record ``<agent>-train.gif`` and ``<agent>-test.gif`` per agent into ``out``.

    ``test`` names the test context (default: the spec's first); ``frame_skip`` is the
    initial number of env steps between frames (default: the env's rate over
    ``GIF_FPS``, i.e. real time until the episode outgrows ``max_frames``); ``width_px``
    is the GIF width [px]. Old GIFs in ``out`` are removed first.
    """
    experiment, out = Path(experiment), Path(out)
    chosen = next((t for t in spec.tests if t.name == (test or spec.tests[0].name)), None)
    if chosen is None:
        raise ValueError(f"unknown test context {test!r}; the spec's tests: "
                         f"{', '.join(t.name for t in spec.tests)}")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.gif"):
        old.unlink()
    seed_file = experiment / "held_out_seed.json"
    held_out = (int(json.loads(seed_file.read_text(encoding="utf-8"))["held_out_seed"])
                if seed_file.exists() else None)
    statuses = {j["job_id"]: j["status"] for j in jobs or []}
    clips = []
    for agent in spec.agents:
        seed = spec.seeds[0]
        folder = run_folder(experiment, agent.name, seed)
        status = statuses.get(f"learn/{agent.name}/{seed}")
        test_context = instance_context(chosen, held_out or 0, 0)  # transfer's first
        places = [("train", f"training context ({_describe(agent.train[0])})",
                   agent.train[0]),
                  ("test", f"test `{chosen.name}` ({_describe(test_context)})",
                   test_context)]
        reason = None
        if held_out is None:
            reason = f"no held-out seed in {seed_file}"
        elif status == "failed":
            reason = f"its learning failed (job learn/{agent.name}/{seed}, see Jobs)"
        elif status is not None and status != "done":
            reason = f"its learning has not finished (job learn/{agent.name}/{seed})"
        elif not folder.is_dir():
            reason = f"no run folder {folder.relative_to(experiment)}"
        for where, description, context in places:
            path = out / f"{_file_name(agent.name)}-{where}.gif"
            if reason is not None:
                clips.append(Clip(agent.name, where, description, None, reason))
                continue
            try:
                note = _record(spec.env, agent, folder, context, held_out, path,
                               frame_skip, max_frames, width_px)
                clips.append(Clip(agent.name, where, description, path, note, held_out))
            except Exception as error:  # a GIF is a by-product: never fail the report
                last = traceback.format_exception_only(error)[-1].strip()
                clips.append(Clip(agent.name, where, description, None,
                                  f"recording failed: {last}"))
    return clips


def _record(env_id: str, agent: AgentSpec, folder: Path, context: dict[str, Any],
            seed: int, path: Path, frame_skip: int | None, max_frames: int,
            width_px: int) -> str:
    """Play and save one episode; return a sentence on how it went."""
    from exgen.agents.episodes import run_episodes
    from exgen.agents.training import load_trained_agent

    env = gym.make(env_id, render_mode="rgb_array", **agent_env_kwargs(agent, context))
    try:
        rate = float(env.metadata.get("render_fps", GIF_FPS))
        every = frame_skip or max(1, round(rate / GIF_FPS))
        taker = _FrameTaker(env, every, max_frames, width_px)
        learner, _ = load_trained_agent(folder, env=env)  # afresh, as a transfer trial
        learner.env = getattr(learner, "env", None) or env
        (record,) = run_episodes(learner, taker, 1, seed=seed, deterministic=True,
                                 learn=True, learn_after_last=False, agent_name=agent.name)
    finally:
        env.close()
    frames = _one_palette(taker.frames)
    save_gif(frames + [frames[-1]] * round(HOLD_LAST_S * GIF_FPS), path, fps=GIF_FPS)
    speed = GIF_FPS * taker.every / rate
    drawn = {k: record.context[k] for k, v in context.items()  # the values of ranges
             if isinstance(v, tuple) and k in record.context}
    return (f"{record.outcome}, {'success' if record.is_success else 'no success'}, "
            f"return {record.episode_return:.1f} over {record.length} steps"
            f"{f' ({_describe(drawn)})' if drawn else ''}; played at {speed:.3g}x speed")


def _one_palette(frames: list[np.ndarray]) -> list[np.ndarray]:
    """``frames`` in the ``PALETTE_COLORS`` colours of a palette drawn from a few of them."""
    from PIL import Image

    picks = [frames[i] for i in np.linspace(0, len(frames) - 1, 6).round().astype(int)]
    palette = Image.fromarray(np.concatenate(picks, axis=0)).quantize(
        PALETTE_COLORS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    return [np.asarray(Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE)
                       .convert("RGB")) for f in frames]


def gallery_markdown(clips: list[Clip]) -> str:
    """The report's "Agents at work" section: per agent, its captions, then its GIFs
    (paths relative to the report folder)."""
    seeds = {c.seed for c in clips if c.seed is not None}
    lines = ["", "## Agents at work", "",
             f"One deterministic episode per agent (as after learning on its first seed) at "
             f"its training context and at a test context, reset with the held-out seed "
             f"{', '.join(map(str, sorted(seeds))) or '(none)'}.", ""]
    agents = list(dict.fromkeys(c.agent for c in clips))
    for agent in agents:
        own = [c for c in clips if c.agent == agent]
        lines += [f"### {agent}", ""]
        if all(c.path is None for c in own) and len({c.note for c in own}) == 1:
            lines += [f"- not recorded: {own[0].note}.", ""]
            continue
        for clip in own:
            state = clip.note if clip.path is not None else f"not recorded: {clip.note}"
            lines.append(f"- {clip.context}: {state}.")
        lines.append("")
        recorded = [c for c in own if c.path is not None]
        lines += [f"![{_file_name(agent)}-{c.where}]({GIF_FOLDER}/{c.path.name})"
                  for c in recorded if c.path is not None]
        if recorded:
            lines.append("")
    return "\n".join(lines)


def _describe(context: dict[str, Any]) -> str:
    """``preset moon, gravity 9.5``: a context's named fields, briefly."""
    parts = []
    for key, value in context.items():
        if isinstance(value, float):
            value = f"{value:.3g}"
        elif isinstance(value, tuple | list) and key == "preset":
            value = " + ".join(map(str, value))
        elif isinstance(value, tuple | list):  # a range, or a set of values
            shown = [f"{v:g}" if isinstance(v, float | int) else str(v) for v in value]
            many = f" ({len(shown)} values)" if len(shown) > 4 else ""
            value = f"[{', '.join([*shown[:2], '...', shown[-1]] if many else shown)}]{many}"
        parts.append(f"{key} {value}")
    return ", ".join(parts) or "defaults"


def _file_name(agent: str) -> str:
    """An agent's name made safe for a file name and a Markdown link."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", agent)
