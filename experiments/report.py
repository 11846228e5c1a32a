"""The report of an experiment: every number and figure computed from the store.

Writes ``report.md`` (headline and tables), ``report.html`` (self-contained, figures
embedded), ``figures/*.png``, ``tables/*.csv``, ``tables/headline.md`` (the README's
compact table, ``exgen.experiments.headline``) and ``gifs/*.gif`` (agents at work, see
``exgen.experiments.gallery``). Nothing is typed by hand: a figure or number that the store
cannot support is left out and the report says so.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from exgen.agents.records import is_clean_arrival
from exgen.envs.world_info import SweepFigure, WorldInfo, world_info
from exgen.experiments.interfaces import AgentInterface, describe_agents, published_at_reset
from exgen.experiments.scheduler import experiment_key, snapshots
from exgen.experiments.spec import AgentSpec, ExperimentSpec
from exgen.experiments.statistics import (
    Interval,
    censored_summary,
    generalization_gap,
    iqm,
    label_pair,
    mean_score_ci,
    success_rate_ci,
)
from exgen.experiments.store import (
    AT_CRITERION,
    FINAL,
    PROTOCOL_VERSION,
    SNAPSHOT_LABELS,
    ResultsStore,
)

#: Why a figure is left out, by figure name; a sweep figure's reason is the default.
_NOT_DRAWN = {
    "infractions": "the episodes recorded no infractions",
    "relearning": "no seed relearned in a test context",
}
_LACKS_FIELDS = "the contexts lack the fields it needs"


@dataclass(frozen=True)
class TransferRow:
    agent: str
    test: str
    label: str
    first_trial: Interval
    within_trials: Interval
    trials_to_first_success: str
    context: dict[str, Any]
    #: First-trial success of each seed (its rate over the instances), by seed.
    first_trial_by_seed: dict[int, float] = field(default_factory=dict)
    #: The learned agent's snapshot transferred: FINAL (fully trained) or AT_CRITERION.
    snapshot: str = FINAL
    #: First-trial success with no infraction, for worlds that count infractions.
    clean_first_trial: Interval | None = None
    #: The held-out instances each seed played (its first trials), by seed.
    instances_by_seed: dict[int, int] = field(default_factory=dict)
    #: Mean first-trial driving score, for worlds that count infractions; None there too
    #: when the store recorded no driving score for some first trial.
    driving_score: Interval | None = None


@dataclass(frozen=True)
class TrainingContextRow:
    """An agent in its training context(s), fully trained, on fresh held-out episodes:
    for worlds that count infractions, arrival (success) beside clean arrival and the mean
    driving score (None where the store recorded none)."""

    agent: str
    success: Interval
    clean: Interval
    driving_score: Interval | None
    instances_by_seed: dict[int, int] = field(default_factory=dict)


def write_report(spec: ExperimentSpec, store_path: str | Path, out: str | Path,
                 gifs: bool = True) -> Path:
    """Compute the report of ``spec`` from its store into ``out``; return report.md.
    With ``gifs``, also record each agent at work (``exgen.experiments.gallery``, slower)."""
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    with ResultsStore(store_path) as store:
        key = experiment_key(spec)
        jobs = store.jobs(key)
        learn = store.episodes(key, kind="learn")
        transfer = store.episodes(key, kind="transfer")
        home = store.episodes(key, kind="training-context")
        protocol = store.protocol(key) or PROTOCOL_VERSION
        versions = store.code_versions(key)
    # The headline, gaps and figures are the fully trained model's; the table adds the
    # model at the criterion.
    at_criterion = [e for e in transfer if e.get("snapshot") == AT_CRITERION]
    transfer = [e for e in transfer if e.get("snapshot") != AT_CRITERION]
    learning = _learning(spec, jobs, learn)
    relearning = _relearning(spec, jobs)
    rows = _transfer_rows(spec, learn, transfer)
    criterion_rows = [dataclasses.replace(r, snapshot=AT_CRITERION)
                      for r in _transfer_rows(spec, learn, at_criterion)]
    gaps = _gaps(spec, home, transfer)
    world = world_info(spec.env)
    figures = {"learning": _figure_learning(spec, jobs, learn, out / "figures" / "learning.png")}
    if world.sweep is not None:
        sweep = world.sweep
        figures[sweep.field] = _figure_sweep(
            spec, sweep, rows, learn, out / "figures" / f"success_vs_{sweep.field}.png")
        figures["heatmap"] = _figure_heatmap(
            spec, sweep, rows,
            out / "figures" / f"{sweep.field}_{sweep.split_name}_heatmap.png")
    figures["infractions"] = _figure_infractions(
        spec, world, rows, transfer, out / "figures" / "success_and_infractions.png")
    figures["relearning"] = _figure_relearning(learning, relearning,
                                               out / "figures" / "relearning.png")
    _write_tables(out, learning, _with_criterion_rows(rows, criterion_rows))
    training_rows = _training_context_rows(spec, home) if world.infractions else []
    _write_training_context_table(out, training_rows)
    home_success = _home_success(spec, home)
    from exgen.experiments.headline import write_headline

    write_headline(spec, learning, rows, home_success, training_rows,
                   out / "tables" / "headline.md", Path(store_path).parent)
    failed = [j for j in jobs if j["status"] == "failed"]
    markdown = _markdown(spec, learning, rows, gaps, failed, jobs, figures, relearning,
                         at_criterion=criterion_rows, protocol=protocol,
                         home=home_success, training_context=training_rows)
    markdown += _versions_line(versions)
    if gifs:
        from exgen.experiments.gallery import agents_at_work

        markdown += agents_at_work(spec, Path(store_path).parent, out, jobs, spec.gallery_test)
    (out / "report.md").write_text(markdown, encoding="utf-8")
    (out / "report.html").write_text(_html(markdown, out, figures), encoding="utf-8")
    return out / "report.md"


# ------------------------------------------------------------------- numbers
def _relearning(spec: ExperimentSpec,
                jobs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (agent, test): episodes to relearn the criterion there, over seeds."""
    result = {}
    for agent in spec.agents:
        for test in spec.relearn:
            found = _learning(spec, jobs, [], kind="relearn", test=test)
            if agent.name in found:
                result[(agent.name, test)] = found[agent.name]
    return result


def _learning(spec: ExperimentSpec, jobs: list[dict[str, Any]],
              learn: list[dict[str, Any]], kind: str = "learn",
              test: str | None = None) -> dict[str, dict[str, Any]]:
    """Per agent: episodes to criterion over seeds (censored), and what was spent; env
    steps to criterion likewise (``steps_summary``) where every run counted its steps."""
    result = {}
    for agent in spec.agents:
        values, spent, steps, steps_spent, skipped = [], [], [], [], 0
        for job in jobs:
            if (job["kind"] != kind or job["agent"] != agent.name or job["status"] != "done"
                    or (test is not None and job["test_context"] != test)):
                continue
            summary = _summary(job)
            if summary.get("skipped"):  # a relearn job of a seed that never learned
                skipped += 1
                continue
            met = _criterion_met(summary)
            values.append(None if met is None else float(met["episodes"]))
            spent.append(int(summary.get("episodes", 0)))
            steps.append(None if met is None else met.get("timesteps"))
            steps_spent.append(summary.get("total_steps"))
        if values:  # each seed is censored at the episodes it spent
            result[agent.name] = {"summary": _censored(values, spent),
                                  "episodes_spent": spent,
                                  "eval_episodes": _eval_episodes(jobs, agent.name),
                                  "skipped": skipped}
            counted = all(n is not None for n in steps_spent) and all(
                (s is None) == (v is None) for s, v in zip(steps, values, strict=True))
            if counted:
                result[agent.name]["steps_summary"] = _censored(
                    [None if s is None else float(s) for s in steps], steps_spent)
        elif skipped:
            result[agent.name] = {"summary": None, "skipped": skipped}
    return result


def _censored(values: list[float | None], spent: list[int]) -> Any:
    """:func:`censored_summary` of per-seed ``values`` (None: never met), each seed
    censored at what it ``spent``."""
    budgets = [float(max(used, value or 0.0, 1)) for used, value in zip(spent, values,
                                                                        strict=True)]
    return censored_summary(values, budgets)


def _summary(job: dict[str, Any]) -> dict[str, Any]:
    """``job``'s stored summary (``summary.json`` of its run), empty when it has none."""
    return json.loads(job["summary"] or "{}")


def _criterion_met(summary: dict[str, Any]) -> dict[str, Any] | None:
    """Where a run with this ``summary`` met the criterion (``episodes``, ``steps``), or
    None."""
    return (summary.get("criterion") or {}).get("met")


def _eval_episodes(jobs: list[dict[str, Any]], agent: str) -> int:
    return sum(_summary(j).get("evaluation_episodes", 0)
               for j in jobs if j["kind"] == "learn" and j["agent"] == agent)


def _transfer_rows(spec: ExperimentSpec, learn: list[dict[str, Any]],
                   transfer: list[dict[str, Any]]) -> list[TransferRow]:
    # A training set is the spec's contexts (ranges kept), completed by the concrete
    # values a learn episode recorded for every field the spec leaves fixed.
    world = world_info(spec.env)
    recorded = {}
    for row in learn:
        recorded.setdefault(row["agent"], world.label_context(row["context"]))
    training = {a.name: [{**recorded[a.name], **{k: v for k, v in context.items()
                                                 if k != "preset"}}
                         for context in a.train]
                for a in spec.agents if a.name in recorded}
    categorical = world.categorical_fields
    grouped: dict[tuple[str, str], dict[int, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list))
    for row in transfer:
        test = row["job_id"].rsplit("/", 1)[1]
        grouped[(row["agent"], test)][row["seed"]].append(row)
    rows = []
    for agent in spec.agents:
        for test in spec.tests:
            by_seed = grouped.get((agent.name, test.name))
            if not by_seed:
                continue
            # Episode i * trials + t is trial t of instance i; every seed plays the same
            # instances (the held-out seed + i), so the lists line up by instance.
            first = {seed: [e["success"] for e in sorted(episodes, key=lambda e: e["episode"])
                            if e["episode"] % spec.trials == 0]
                     for seed, episodes in by_seed.items()}
            within = {seed: _within(episodes, spec.trials)
                      for seed, episodes in by_seed.items()}
            needed = [n for episodes in by_seed.values()
                      for n in _trials_to_success(episodes, spec.trials)]
            trial_1 = {seed: [e for e in sorted(episodes, key=lambda e: e["episode"])
                              if e["episode"] % spec.trials == 0]
                       for seed, episodes in by_seed.items()}
            clean = ({seed: [_clean(e) for e in found] for seed, found in trial_1.items()}
                     if world.infractions else None)
            scores = _scores_ci(trial_1) if world.infractions else None
            context = world.label_context(next(iter(by_seed.values()))[0]["context"])
            label = (label_pair(training[agent.name], context, categorical=categorical)
                     if agent.name in training else "unknown")
            rows.append(TransferRow(
                agent.name, test.name, label, _success_ci(first), _success_ci(within),
                _count_phrase(censored_summary(needed, float(spec.trials)), "instances"),
                context, {seed: float(np.mean(v)) for seed, v in sorted(first.items())},
                clean_first_trial=_success_ci(clean) if clean else None,
                instances_by_seed={seed: len(v) for seed, v in sorted(first.items())},
                driving_score=scores))
    return rows


def _clean(episode: dict[str, Any]) -> bool:
    """Whether ``episode`` succeeded (arrived) with no infraction of any kind."""
    return is_clean_arrival(episode["success"], episode.get("infractions"))


def _scores_ci(episodes_by_seed: dict[int, list[dict[str, Any]]]) -> Interval | None:
    """Mean driving score over seeds and instances (``mean_score_ci``), the episodes of
    each seed in instance order; None when some episode has no recorded score."""
    scores = {seed: [e.get("driving_score") for e in episodes]
              for seed, episodes in episodes_by_seed.items()}
    if not scores or any(s is None for found in scores.values() for s in found):
        return None
    shared = len({len(v) for v in scores.values()}) == 1
    return mean_score_ci(scores, shared_instances=shared)


def _training_context_rows(spec: ExperimentSpec,
                           home: list[dict[str, Any]]) -> list[TrainingContextRow]:
    """Per agent with fresh training-context episodes: arrival, clean arrival and the
    mean driving score over seeds and instances (a world that counts infractions)."""
    rows = []
    for agent in spec.agents:
        by_seed: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in sorted(home, key=lambda r: (r["seed"], r["episode"])):
            if row["agent"] == agent.name:
                by_seed[row["seed"]].append(row)
        if not by_seed:
            continue
        rows.append(TrainingContextRow(
            agent.name,
            _success_ci({seed: [e["success"] for e in found] for seed, found in by_seed.items()}),
            _success_ci({seed: [_clean(e) for e in found] for seed, found in by_seed.items()}),
            _scores_ci(by_seed),
            {seed: len(found) for seed, found in sorted(by_seed.items())}))
    return rows


def categorical_fields(env_id: str) -> set[str]:
    """The context fields of ``env_id`` that are labels, not numbers (map seed, side)."""
    return world_info(env_id).categorical_fields


def _within(episodes: list[dict[str, Any]], trials: int) -> list[bool]:
    by_instance = defaultdict(list)
    for e in episodes:
        by_instance[e["episode"] // trials].append(e["success"])
    return [any(by_instance[instance]) for instance in sorted(by_instance)]


def _trials_to_success(episodes: list[dict[str, Any]], trials: int) -> list[float | None]:
    by_instance: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for e in episodes:
        by_instance[e["episode"] // trials].append((e["episode"] % trials, e["success"]))
    return [next((float(t + 1) for t, s in sorted(items) if s), None)
            for items in by_instance.values()]


def _gaps(spec: ExperimentSpec, home: list[dict[str, Any]],
          transfer: list[dict[str, Any]]) -> dict[str, Interval]:
    """Success in the training context(s) on fresh held-out episodes after learning
    (``home``: the training-context jobs' episodes, never the criterion's evaluations)
    minus first-trial success over the test contexts, both of the fully trained model."""
    gaps = {}
    for agent in spec.agents:
        train = _home_by_seed(home, agent.name)
        by_key: dict[int, dict[tuple[str, int], bool]] = defaultdict(dict)
        for row in transfer:
            if row["agent"] == agent.name and row["episode"] % spec.trials == 0:
                by_key[row["seed"]][(row["job_id"].rsplit("/", 1)[1], row["episode"])] = (
                    row["success"])
        test = {seed: [found[k] for k in sorted(found)] for seed, found in by_key.items()}
        seeds = sorted(set(train) & set(test))
        if seeds:
            shared = len({tuple(sorted(by_key[s])) for s in seeds}) == 1
            gaps[agent.name] = generalization_gap({s: train[s] for s in seeds},
                                                  {s: test[s] for s in seeds},
                                                  train_shared_instances=len(
                                                      {len(train[s]) for s in seeds}) == 1,
                                                  test_shared_instances=shared)
    return gaps


def _home_by_seed(home: list[dict[str, Any]], agent: str) -> dict[int, list[bool]]:
    """``agent``'s fresh training-context successes per seed, by instance (every seed
    plays the same held-out instances)."""
    by_seed: dict[int, list[bool]] = defaultdict(list)
    for row in sorted(home, key=lambda r: (r["seed"], r["episode"])):
        if row["agent"] == agent:
            by_seed[row["seed"]].append(row["success"])
    return dict(by_seed)


def _home_success(spec: ExperimentSpec, home: list[dict[str, Any]]) -> dict[str, Interval]:
    """Per agent: success in its training context(s) on fresh held-out episodes after
    learning, over seeds and instances."""
    return {agent.name: _success_ci(by_seed) for agent in spec.agents
            if (by_seed := _home_by_seed(home, agent.name))}


def _success_ci(successes_by_seed: dict[int, list[bool]]) -> Interval:
    """First-trial or within-K success over seeds and instances; the seeds share their
    instances when they played as many (the scheduler gives every seed the same ones)."""
    shared = len({len(v) for v in successes_by_seed.values()}) == 1
    return success_rate_ci(successes_by_seed, shared_instances=shared)


def _intervals_sentence(rows: list[TransferRow], gaps: dict[str, Interval],
                        scores: list[Interval] | None = None) -> str:
    """What the report's intervals are, from the methods that made them; ``scores`` are
    the mean driving scores shown, if any."""
    scores = scores or []
    methods = sorted({r.first_trial.method for r in rows} | {g.method for g in gaps.values()}
                     | {s.method for s in scores})
    if not methods:
        return ""
    sentence = ("Intervals: " + "; ".join(methods) + ". An interval over seeds and instances "
                "resamples the seeds, then the held-out instances (which every seed shares), "
                "and is widened for the few seeds (a Wilson interval at the effective sample "
                "size, t quantile with seeds - 1 degrees of freedom); with one seed there is "
                "no interval over seeds.")
    if scores:
        sentence += (" A mean driving score's interval is made the same way from the "
                     "bootstrap of the mean (a score in [0, 1] varies at most as much as a "
                     "success of the same mean), so it is never narrower than the Wilson "
                     "interval at that mean over the instances.")
    return sentence + " Per-seed values are in the table \"Per seed\"."


def _city_sentence(rows: list[TransferRow], training: list[TrainingContextRow]) -> str:
    """What arrival, clean arrival and the driving score are, for a world that counts
    infractions; and where the store recorded no driving score."""
    if not any(r.clean_first_trial is not None for r in rows) and not training:
        return ""
    sentence = ("Here success is arrival; a *clean* arrival is one with no infraction of any "
                "kind (every count of `info[\"infractions\"]` zero); the *driving score* is "
                "the env's `info[\"driving_score\"]` (route completion times a penalty "
                "factor per infraction, in [0, 1]), its mean taken per seed over the "
                "instances, then over seeds (every one counts, arrived or not). "
                "Transfer shows each on the first trial.")
    missing = ([r for r in rows if r.clean_first_trial is not None and r.driving_score is None]
               + [t for t in training if t.driving_score is None])
    if missing:
        sentence += (" Some episodes in this store have no driving score (the runner that "
                     "played them did not record `info[\"driving_score\"]`): their cells "
                     "read \"not recorded\".")
    return sentence + " "


def _per_seed_table(spec: ExperimentSpec, rows: list[TransferRow]) -> list[str]:
    """First-trial success of every seed per agent and test ("n/a" where a seed has none)."""
    if not rows:
        return []
    lines = ["", "## Per seed", "", "First-trial success of each seed over the held-out "
             "instances.", "", "| agent | test | " + " | ".join(f"seed {s}" for s in spec.seeds)
             + " |", "| --- | --- |" + " --- |" * len(spec.seeds)]
    for r in rows:
        cells = [f"{r.first_trial_by_seed[s]:.2f}" if s in r.first_trial_by_seed else "n/a"
                 for s in spec.seeds]
        lines.append(f"| {r.agent} | {r.test} | " + " | ".join(cells) + " |")
    return lines


def _count_phrase(summary: Any, unit: str) -> str:
    """``median (IQR low-high; met/total unit met)`` with censored values as >budget."""
    low, high = summary.quartiles
    return (f"{summary.median} (IQR {low} to {high}; {summary.n_met}/{summary.n_seeds} {unit} "
            f"met)")


def _relearning_phrase(data: dict[str, Any]) -> str:
    """Episodes to relearn over the seeds that learned; the others named as not measured."""
    skipped = data.get("skipped", 0)
    unmeasured = (f"{skipped} seed{'s' if skipped != 1 else ''} never learned: not measured"
                  if skipped else "")
    if data["summary"] is None:
        return unmeasured
    measured = _count_phrase(data["summary"], "seeds")
    return f"{measured}; {unmeasured}" if unmeasured else measured


# ------------------------------------------------------------------- figures
def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _save(figure: Any, path: Path, **layout: Any) -> Path:
    """Write ``figure`` to ``path`` (tight layout unless ``layout`` says otherwise), close it."""
    from matplotlib import pyplot

    if not layout:
        figure.tight_layout()
    figure.savefig(path, dpi=110, **layout)
    pyplot.close(figure)
    return path


def _figure_learning(spec: ExperimentSpec, jobs: list[dict[str, Any]],
                     learn: list[dict[str, Any]], path: Path) -> Path:
    """Rolling success against episodes per agent (mean over seeds), with a marker on
    the agent's curve where each seed met the criterion."""
    plt = _pyplot()
    met_at = {job["job_id"]: met["episodes"] for job in jobs
              if job["kind"] == "learn" and (met := _criterion_met(_summary(job))) is not None}

    figure, axes = plt.subplots(figsize=(7, 4))
    for agent in spec.agents:
        rows = [r for r in learn if r["agent"] == agent.name]
        if not rows:
            continue
        by_seed = defaultdict(list)
        for r in rows:
            by_seed[r["job_id"]].append(r["success"])  # one curve per learning run
        longest = max(len(v) for v in by_seed.values())
        window = max(1, min(100, longest // 10))
        curves = []
        for successes in by_seed.values():
            rolling = np.convolve(np.asarray(successes, float), np.ones(window) / window,
                                  mode="full")[:len(successes)]
            rolling /= np.minimum(np.arange(1, len(successes) + 1), window) / window
            curves.append(np.pad(rolling, (0, longest - len(rolling)), constant_values=np.nan))
        mean = np.nanmean(np.array(curves), axis=0)
        episodes = np.arange(1, longest + 1)
        style = {"marker": "o"} if longest <= 10 else {}
        line, = axes.plot(episodes, mean, label=f"{agent.name} ({len(by_seed)} seeds)", **style)
        met = [met_at[job] for job in by_seed if job in met_at]
        if met:
            # Not clipped: a star at full success sits on the axes' top edge.
            axes.plot(met, np.interp(met, episodes, mean), linestyle="none", marker="*",
                      markersize=12, color=line.get_color(), markeredgecolor="black",
                      clip_on=False, zorder=3,
                      label=f"{agent.name}: criterion met ({len(met)} of {len(by_seed)} seeds)")
    axes.set_xscale("log")
    axes.set_xlabel("training episodes (trials for the planner)")
    axes.set_ylabel("success rate (rolling, mean over seeds)")
    axes.set_ylim(-0.02, 1.02)
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)
    return _save(figure, path)


def _figure_infractions(spec: ExperimentSpec, world: WorldInfo, rows: list[TransferRow],
                        transfer: list[dict[str, Any]], path: Path) -> Path | None:
    """Success per test context next to rule breaks per trial by type (in the order
    ``world`` declares them, then any others), split into the contexts each agent
    trained in (interpolation) and new ones (extrapolation)."""
    plt = _pyplot()

    recorded = {k for e in transfer for k in e.get("infractions") or {}}
    kinds = ([k for k in world.infractions if k in recorded]
             + sorted(recorded - set(world.infractions)))
    if not kinds or not rows:
        return None
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2),
                                         gridspec_kw={"width_ratios": [3, 2]})
    tests = [t.name for t in spec.tests if any(r.test == t.name for r in rows)]
    agents = [a.name for a in spec.agents if any(r.agent == a.name for r in rows)]
    width = 0.8 / len(agents)
    for i, agent in enumerate(agents):
        found = {r.test: r for r in rows if r.agent == agent}
        xs = [t + (i - (len(agents) - 1) / 2) * width for t in range(len(tests))]
        points = [found[t].first_trial if t in found else None for t in tests]
        left.bar(xs, [p.point if p else 0.0 for p in points], width, label=agent,
                 yerr=[[p.point - p.low if p else 0.0 for p in points],
                       [p.high - p.point if p else 0.0 for p in points]], capsize=2)
    left.set_xticks(range(len(tests)), tests, rotation=30, ha="right", fontsize=8)
    left.set_title("success by test context", fontsize=10)
    left.set_ylabel("first-trial success (95% interval)")
    left.set_ylim(0, 1.05)
    left.legend(fontsize=8)
    left.grid(axis="y", alpha=0.3)
    label_of = {(r.agent, r.test): r.label for r in rows}
    bars = [(agent, label) for agent in agents for label in ("interpolation", "extrapolation")
            if any(label_of.get((agent, t)) == label for t in tests)]
    bottoms = np.zeros(len(bars))
    for kind in kinds:
        heights = []
        for agent, label in bars:
            episodes = [e for e in transfer if e["agent"] == agent
                        and label_of.get((agent, e["job_id"].rsplit("/", 1)[1])) == label]
            heights.append(sum((e.get("infractions") or {}).get(kind, 0) for e in episodes)
                           / max(1, len(episodes)))
        right.bar(range(len(bars)), heights, 0.7, bottom=bottoms, label=kind.replace("_", " "))
        bottoms += np.asarray(heights)
    right.set_xticks(range(len(bars)), [f"{a}\n{'trained' if lab == 'interpolation' else 'new'}"
                                        for a, lab in bars], fontsize=7, rotation=20)
    right.set_title("infractions by type: contexts trained in vs new", fontsize=10)
    right.set_ylabel("infractions per trial")
    right.legend(fontsize=7)
    right.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def _figure_sweep(spec: ExperimentSpec, sweep: SweepFigure, rows: list[TransferRow],
                  learn: list[dict[str, Any]], path: Path) -> Path | None:
    """First-trial success against ``sweep.field`` per agent (dashed where
    ``sweep.split_field`` is nonzero), the agent's training range shaded."""
    plt = _pyplot()

    name, split = sweep.field, sweep.split_field
    if not any(name in r.context for r in rows):
        return None
    figure, axes = plt.subplots(figsize=(9, 4))
    colors = {}
    for agent in spec.agents:
        trained = [r["context"][name] for r in learn
                   if r["agent"] == agent.name and name in r["context"]]
        for split_on, line in ((False, "-"), (True, "--")):
            points = sorted((r.context[name], r.first_trial) for r in rows
                            if r.agent == agent.name and name in r.context
                            and bool(r.context.get(split)) == split_on)
            if not points:
                continue
            xs = [p[0] for p in points]
            plotted = axes.errorbar(
                xs, [p[1].point for p in points],
                yerr=[[p[1].point - p[1].low for p in points],
                      [p[1].high - p[1].point for p in points]],
                linestyle=line, marker="o", capsize=2, color=colors.get(agent.name),
                label=f"{agent.name}{f' ({sweep.split_legend})' if split_on else ''}")
            colors[agent.name] = plotted[0].get_color()
        if trained and agent.name in colors:
            axes.axvspan(min(trained) - 0.1, max(trained) + 0.1, alpha=0.08,
                         color=colors[agent.name])
    axes.set_xlabel(f"{sweep.label} (shaded: training range)")
    axes.set_ylabel("first-trial success (95% interval over seeds and instances)")
    axes.set_ylim(-0.05, 1.05)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(figure, path)


def _figure_heatmap(spec: ExperimentSpec, sweep: SweepFigure, rows: list[TransferRow],
                    path: Path) -> Path | None:
    """First-trial success per agent over ``sweep.field`` (columns) and
    ``sweep.split_field`` (rows)."""
    plt = _pyplot()

    name, split = sweep.field, sweep.split_field
    cells = [r for r in rows if name in r.context and split in r.context]
    if not cells:
        return None
    columns = sorted({r.context[name] for r in cells})
    lines = sorted({r.context[split] for r in cells})
    agents = [a.name for a in spec.agents if any(r.agent == a.name for r in cells)]
    figure, all_axes = plt.subplots(1, len(agents), figsize=(2.6 * len(agents), 3),
                                    squeeze=False)
    for axes, agent in zip(all_axes[0], agents, strict=True):
        grid = np.full((len(lines), len(columns)), np.nan)
        for r in cells:
            if r.agent == agent:
                grid[lines.index(r.context[split]),
                     columns.index(r.context[name])] = r.first_trial.point
        image = axes.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto",
                            origin="lower")
        axes.set_title(agent, fontsize=9)
        axes.set_xticks(range(len(columns)), [f"{g:g}" for g in columns], fontsize=6,
                        rotation=90)
        axes.set_yticks(range(len(lines)), [f"{w:g}" for w in lines], fontsize=7)
        axes.set_xlabel(sweep.label, fontsize=7)
    all_axes[0][0].set_ylabel(sweep.split_label, fontsize=7)
    figure.colorbar(image, ax=all_axes[0].tolist(), shrink=0.8, label="first-trial success")
    return _save(figure, path, bbox_inches="tight")


def _figure_relearning(learning: dict[str, dict[str, Any]],
                       relearning: dict[tuple[str, str], dict[str, Any]],
                       path: Path) -> Path | None:
    """Median episodes to criterion: from scratch, and relearning in each test context.
    Hatched bars are censored: the criterion was not met within the budget."""
    plt = _pyplot()

    if not relearning:
        return None
    bars = []
    for (agent, test), data in relearning.items():
        if data["summary"] is None:  # no seed learned: nothing to relearn
            continue
        if agent in learning and (agent, "from scratch") not in [b[:2] for b in bars]:
            bars.append((agent, "from scratch", learning[agent]["summary"].median))
        bars.append((agent, test, data["summary"].median))
    figure, axes = plt.subplots(figsize=(max(5, 0.6 * len(bars)) + 3, 3.5))  # + the legend
    for index, (_agent, label, median) in enumerate(bars):
        axes.bar(index, median.value, hatch="//" if median.censored else None,
                 color="#8888cc" if label == "from scratch" else "#cc8844")
    axes.set_xticks(range(len(bars)), [f"{a}\n{label}" for a, label, _ in bars],
                    fontsize=7, rotation=45, ha="right")
    axes.set_ylabel("episodes to criterion (median)")
    axes.set_yscale("log")
    from matplotlib.patches import Patch

    axes.legend(handles=[
        Patch(facecolor="#8888cc", label="learning from scratch"),
        Patch(facecolor="#cc8844", label="relearning in a test context"),
        Patch(facecolor="white", edgecolor="black", hatch="//",
              label="median not met within the budget (a lower bound)")],
        fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    return _save(figure, path, bbox_inches="tight")


# -------------------------------------------------------------------- output
def _write_tables(out: Path, learning: dict[str, dict[str, Any]],
                  rows: list[TransferRow]) -> None:
    """``tables/*.csv``: every row of the transfer table (both snapshots, the
    ``snapshot`` column telling them apart), its per-seed values and the learning. For a
    world that counts infractions the transfer table adds first-trial clean arrival and
    the mean first-trial driving score (empty where not recorded)."""
    with_clean = any(r.clean_first_trial is not None for r in rows)
    with (out / "tables" / "transfer.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["agent", "snapshot", "test", "label", "first_trial",
                         "first_trial_low", "first_trial_high", "within_trials",
                         "within_low", "within_high", "interval_method",
                         "trials_to_first_success", *(_CITY_COLUMNS if with_clean else ())])
        for r in rows:
            writer.writerow([r.agent, SNAPSHOT_LABELS[r.snapshot], r.test, r.label,
                             r.first_trial.point, r.first_trial.low, r.first_trial.high,
                             r.within_trials.point, r.within_trials.low,
                             r.within_trials.high, r.first_trial.method,
                             r.trials_to_first_success]
                            + (_city_cells(r.clean_first_trial, r.driving_score)
                               if with_clean else []))
    with (out / "tables" / "per_seed.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["agent", "snapshot", "test", "seed", "first_trial", "instances"])
        for r in rows:
            for seed, rate in r.first_trial_by_seed.items():
                writer.writerow([r.agent, SNAPSHOT_LABELS[r.snapshot], r.test, seed, rate,
                                 r.instances_by_seed.get(seed, "")])
    with (out / "tables" / "learning.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["agent", "episodes_to_criterion", "seeds_met", "seeds",
                         "evaluation_episodes", "env_steps_to_criterion"])
        for agent, data in learning.items():
            summary, steps = data["summary"], data.get("steps_summary")
            writer.writerow([agent, str(summary), summary.n_met, summary.n_seeds,
                             data["eval_episodes"], "" if steps is None else str(steps)])


#: The columns a table of a world that counts infractions adds: clean arrival and the
#: mean driving score, each with its interval.
_CITY_COLUMNS = ("clean_arrival", "clean_low", "clean_high", "driving_score",
                 "driving_score_low", "driving_score_high", "driving_score_method")


def _city_cells(clean: Interval | None, score: Interval | None) -> list[Any]:
    """The :data:`_CITY_COLUMNS` cells of a row (empty where there is no value)."""
    return ([clean.point, clean.low, clean.high] if clean else ["", "", ""]) + (
        [score.point, score.low, score.high, score.method] if score else ["", "", "", ""])


def _write_training_context_table(out: Path, training: list[TrainingContextRow]) -> None:
    """``tables/training_context.csv``: each agent's arrival, clean arrival and mean
    driving score in its training context(s), for a world that counts infractions."""
    if not training:
        return
    with (out / "tables" / "training_context.csv").open("w", newline="",
                                                        encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["agent", "arrival", "arrival_low", "arrival_high", "interval_method",
                         *_CITY_COLUMNS])
        for t in training:
            writer.writerow([t.agent, t.success.point, t.success.low, t.success.high,
                             t.success.method, *_city_cells(t.clean, t.driving_score)])


def _versions_line(versions: dict[str, int]) -> str:
    """Which code ran the finished jobs: a run resumed across commits names each."""
    if not versions:
        return ""
    return ("\nCode version (git commit) of the finished jobs: "
            + "; ".join(f"{version}: {count} jobs" for version, count in versions.items())
            + ".\n")


def _markdown(spec: ExperimentSpec, learning: dict[str, dict[str, Any]],
              rows: list[TransferRow], gaps: dict[str, Interval],
              failed: list[dict[str, Any]], jobs: list[dict[str, Any]],
              figures: dict[str, Path | None],
              relearning: dict[tuple[str, str], dict[str, Any]],
              at_criterion: list[TransferRow] | None = None,
              protocol: int = PROTOCOL_VERSION,
              home: dict[str, Interval] | None = None,
              training_context: list[TrainingContextRow] | None = None) -> str:
    """The report's Markdown. ``rows`` and ``gaps`` are the fully trained model's,
    ``at_criterion`` the transfer rows from the model at the criterion, ``home`` each
    agent's fresh training-context success, ``training_context`` its arrival, clean
    arrival and driving score there (worlds that count infractions), ``protocol`` the
    store's protocol version."""
    home = home or {}
    training_context = training_context or []
    shown = _with_criterion_rows(rows, at_criterion or [])
    scores = [s for s in [r.driving_score for r in shown]
              + [t.driving_score for t in training_context] if s is not None]
    two_snapshots = _two_snapshot_agents(spec, protocol)
    more = "".join(f" ({count} for {name})" for name, count in spec.test_instances.items())
    lines = [f"# {spec.name} ({spec.preset})", ""]
    if spec.note:
        lines += [f"> **Note.** {spec.note}", ""]
    lines += _protocol_note(spec, protocol)
    lines += _never_learned(spec, learning)
    lines += [spec.description, ""] if spec.description else []
    lines += [f"Env `{spec.env}`; seeds {', '.join(map(str, spec.seeds))}; {spec.instances} "
              f"held-out instances per test context and seed{more}, {spec.trials} trials "
              f"each. Success is the env's `info[\"is_success\"]`. "
              f"{_city_sentence(shown, training_context)}"
              f"{_intervals_sentence(rows, gaps, scores)}", "", "## Headline", ""]
    if two_snapshots:
        lines += ["Transfer and the gap are the fully trained model's (the RL agents "
                  "learned for their whole budget); the Transfer table adds the model at "
                  "the criterion.", ""]
    for agent in spec.agents:
        learned = learning.get(agent.name)
        agent_rows = [r for r in rows if r.agent == agent.name]
        if learned is None:
            lines.append(f"- **{agent.name}**: no finished learning run.")
            continue
        parts = [f"**{agent.name}**: {criterion_unit(agent)} to criterion "
                 f"{_count_phrase(learned['summary'], 'seeds')}"]
        if "steps_summary" in learned and agent.agent != "planner":
            low, high = learned["steps_summary"].quartiles
            parts.append(f"env steps to criterion {learned['steps_summary'].median} (IQR "
                         f"{low} to {high})")
        for label in ("interpolation", "extrapolation"):
            labelled = [r for r in agent_rows if r.label == label]
            if labelled:  # the worst context beside the IQM: trimming hides nothing
                worst = min(labelled, key=lambda r: r.first_trial.point)
                parts.append(f"first-trial success IQM over {len(labelled)} {label} contexts "
                             f"{iqm([r.first_trial.point for r in labelled]):.2f} (worst: "
                             f"{worst.test} {worst.first_trial.point:.2f})")
        if agent.name in home:
            parts.append(f"training-context success {home[agent.name]} (fresh held-out "
                         f"episodes)")
        if agent.name in gaps:
            parts.append(f"generalization gap {gaps[agent.name]}")
        lines.append("- " + "; ".join(parts) + ".")
    lines += _interfaces_table(spec)
    lines += _training_context_table(training_context)
    # Worlds that count infractions call success arrival, and add first-trial arrivals
    # without any infraction (clean) and the mean first-trial driving score.
    with_clean = any(r.clean_first_trial is not None for r in shown)
    header = (f"| agent | test | label | first-trial arrival | arrival within {spec.trials} "
              f"trials | trials to first arrival | first-trial clean arrival | first-trial "
              f"driving score (mean) |" if with_clean else
              f"| agent | test | label | first trial | within {spec.trials} trials | "
              f"trials to first success |")
    lines += ["", "## Transfer", "", header,
              "| --- | --- | --- | --- | --- | --- |" + " --- | --- |" * with_clean]
    unlearned = set(unlearned_agents(spec, learning))
    lines += [f"| {r.agent}{' †' if r.agent in unlearned and r.snapshot == FINAL else ''}"
              f"{_snapshot_tag(r, two_snapshots)} | {r.test} | {r.label} | "
              f"{r.first_trial} | {r.within_trials} | {r.trials_to_first_success} |"
              f"{_clean_cells(r) * with_clean}"
              for r in shown]
    lines += _snapshot_lines(spec, jobs, protocol, two_snapshots)
    lines += _per_seed_table(spec, rows)
    if relearning:
        cap = ("" if spec.relearn_budget_steps is None else
               f" A relearn job stops after {spec.relearn_budget_steps:,} env steps; a seed "
               f"that has not met the criterion by then is censored there.")
        lines += ["", "## Relearning", "",
                  "Training episodes to meet the criterion again in a test context, starting "
                  "from the fully trained model (evaluated first: 0 where it meets the "
                  "criterion as it is), beside learning from scratch." + cap, "",
                  "| agent | from scratch | relearn in | relearning |", "| --- | --- | --- | --- |"]
        lines += [f"| {agent} | {_count_phrase(learning[agent]['summary'], 'seeds')} | {test} | "
                  f"{_relearning_phrase(data)} |"
                  for (agent, test), data in relearning.items() if agent in learning]
    lines += ["", "## Figures", "", *_figures_markdown(figures)]
    lines += ["", "## Jobs", "", f"{sum(j['status'] == 'done' for j in jobs)} of {len(jobs)} "
              f"jobs done, {len(failed)} failed."]
    waiting = sum(j["status"] == "pending" for j in jobs)
    if waiting:
        lines.append(f"{waiting} jobs not run: their learning failed or the run was "
                     f"stopped (exgen compare again resumes).")
    if failed:
        lines.append("")  # a list starts after a blank line, not inside the paragraph
    for job in failed:
        last = (job["error"] or "").strip().splitlines()[-1:]
        lines.append(f"- `{job['job_id']}` failed: {last[0] if last else 'no message'}")
    return "\n".join(lines) + "\n"


def _figures_markdown(figures: dict[str, Path | None]) -> list[str]:
    """Markdown lines of ``figures``: each drawn one as an image paragraph of its own,
    then the ones left out as a list with the reason, set apart by blank lines."""
    lines = []
    for name, path in figures.items():
        if path is not None:
            lines += [f"![{name}](figures/{path.name})", ""]
    missing = [f"- {name}: not drawn ({_NOT_DRAWN.get(name, _LACKS_FIELDS)})."
               for name, path in figures.items() if path is None]
    if missing:
        lines += [*missing, ""]
    return lines[:-1] if lines else lines


def _two_snapshot_agents(spec: ExperimentSpec, protocol: int) -> set[str]:
    """The agents whose transfer was measured from two snapshots (fully trained, at the
    criterion): the RL agents of a protocol-2 run that learned to the budget."""
    if protocol < 2:
        return set()
    return {a.name for a in spec.agents if len(snapshots(spec, a)) > 1}


def _snapshot_tag(row: TransferRow, labelled: set[str]) -> str:
    """`` (fully trained)`` or `` (at criterion)`` after an agent with two snapshots."""
    return f" ({SNAPSHOT_LABELS[row.snapshot]})" if row.agent in labelled else ""


def _clean_cells(row: TransferRow) -> str:
    """The transfer table's clean-arrival and driving-score cells of ``row``."""
    return (f" {row.clean_first_trial if row.clean_first_trial is not None else '-'} |"
            f" {_score_cell(row.driving_score)} |")


def _score_cell(score: Interval | None) -> str:
    """A mean driving score with its interval, or "not recorded"."""
    return "not recorded" if score is None else str(score)


def _interfaces_table(spec: ExperimentSpec) -> list[str]:
    """What each agent sees and how it acts (``exgen.experiments.interfaces``): one row
    per agent, from the env it learns in seen through its public view."""
    described = describe_agents(spec)
    published = published_at_reset(spec.env)
    keys = ", ".join('`info["' + key + '"]`' for key in published)
    at_reset = (f"; at a reset the world also publishes {keys}, read by the agents whose "
                f"row says so" if published else "; the world publishes nothing else")
    lines = ["", "## What each agent sees and how it acts", "",
             f"Every agent meets the env through its public view "
             f"(`exgen.agents.public_view`): the observation, the reward, the episode's end "
             f"and `info[\"is_success\"]`{at_reset}. The context is hidden from every agent "
             f"whose row does not say it is observed. Each row is read off the env the "
             f"agent learns in (its first training context, with its interface) and the "
             f"world's published layout.{_same_interface(described)}", "",
             "| agent | kind | observes | context | reads at a reset | acts | learns from |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for d in described:
        context = (f"observed: {', '.join(d.context_observed)}" if d.context_observed
                   else "hidden (not observed)")
        reads = ", ".join(f"the published `{key}`" for key in d.reads_at_reset) or "-"
        lines.append(f"| {d.agent} | {d.kind} | {d.observes} | {context} | {reads} | "
                     f"{d.acts} | {d.learns} |")
    return lines


def _same_interface(described: list[AgentInterface]) -> str:
    """A sentence on whether the RL agents share one interface (observation and actions),
    naming those that differ from the most common one; empty for fewer than two."""
    rl = [d for d in described if _is_learner(d.kind)]
    if len(rl) < 2:
        return ""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for d in rl:
        counts[(d.observes, d.acts)] += 1
    common = max(counts, key=counts.__getitem__)
    others = [d.agent for d in rl if (d.observes, d.acts) != common]
    if not others:
        return f" The RL agents ({', '.join(d.agent for d in rl)}) share one interface."
    return (f" The RL agents share one interface but for {', '.join(others)} (see "
            f"{'its row' if len(others) == 1 else 'their rows'}).")


def _training_context_table(training: list[TrainingContextRow]) -> list[str]:
    """Arrival, clean arrival and the mean driving score of each agent, fully trained, in
    its training context(s), on fresh held-out episodes (worlds that count infractions)."""
    if not training:
        return []
    lines = ["", "## Training context", "",
             "Each agent, fully trained, in its training context(s) on fresh held-out "
             "episodes (one trial each), over seeds and instances.", "",
             "| agent | instances per seed | arrival | clean arrival | driving score (mean) |",
             "| --- | --- | --- | --- | --- |"]
    for t in training:
        counts = sorted(set(t.instances_by_seed.values()))
        lines.append(f"| {t.agent} | {', '.join(map(str, counts))} | {t.success} | "
                     f"{t.clean} | {_score_cell(t.driving_score)} |")
    return lines


def _with_criterion_rows(rows: list[TransferRow],
                         at_criterion: list[TransferRow]) -> list[TransferRow]:
    """The fully trained rows, each followed by its agent's at-criterion row there."""
    ordered = []
    for row in rows:
        ordered.append(row)
        ordered += [r for r in at_criterion if (r.agent, r.test) == (row.agent, row.test)]
    return ordered + [r for r in at_criterion if r not in ordered]


def _snapshot_lines(spec: ExperimentSpec, jobs: list[dict[str, Any]], protocol: int,
                    labelled: set[str]) -> list[str]:
    """Under the transfer table: which snapshots it shows, and the seeds with no model at
    the criterion ("not met")."""
    if protocol >= 2 and spec.stop_at_criterion:
        return ["", "Learning stopped at the criterion (the preset's `stop_at_criterion`): "
                "the fully trained model is the one at the criterion, so transfer was "
                "measured once."]
    if not labelled:
        return []
    lines = ["", "Rows marked *fully trained* start from the model at the end of the budget, "
             "*at criterion* from the model saved when the seed first met the criterion, "
             "over the seeds that met it.", ""]
    for agent in sorted(labelled, key=[a.name for a in spec.agents].index):
        missing = sorted({j["seed"] for j in jobs if j["agent"] == agent
                          and j.get("snapshot") == AT_CRITERION and j["status"] == "done"
                          and _summary(j).get("skipped")})
        if missing:
            lines.append(f"- **{agent}, at criterion**: not met in {len(missing)} of "
                         f"{len(spec.seeds)} seeds (seed{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(map(str, missing))}): no model at the criterion, no "
                         f"at-criterion transfer.")
    return lines[:-1] if lines[-1] == "" else lines


def _protocol_note(spec: ExperimentSpec, protocol: int) -> list[str]:
    """A warning at the top of a report over a store made under an older protocol."""
    if protocol >= PROTOCOL_VERSION:
        return []
    return [f"> **Old protocol (v{protocol}).** This store was made under protocol "
            f"v{protocol}: learning stopped at the criterion, so transfer was measured from "
            f"one model (at the criterion, or at the end of the budget), and no fresh "
            f"training-context episodes were played, so there is no generalization gap. "
            f"Run the experiment again into a new store for protocol v{PROTOCOL_VERSION} "
            f"(docs/protocol.md).", ""]


def unlearned_agents(spec: ExperimentSpec, learning: dict[str, dict[str, Any]]) -> list[str]:
    """The learning agents, in the spec's order, that did not meet the criterion on every
    seed: the report marks them with †."""
    names = []
    for agent in spec.agents:
        summary = learning.get(agent.name, {}).get("summary")
        if _is_learner(agent.agent) and summary is not None and summary.n_met < summary.n_seeds:
            names.append(agent.name)
    return names


def never_learned_notes(spec: ExperimentSpec, learning: dict[str, dict[str, Any]]) -> list[str]:
    """For every agent of :func:`unlearned_agents`, the sentence that says its transfer
    numbers measure an agent that never learned, not its generalization (no full stop)."""
    notes = []
    for name in unlearned_agents(spec, learning):
        summary = learning[name]["summary"]
        notes.append(f"**{name} never learned** in {summary.n_seeds - summary.n_met} of "
                     f"{summary.n_seeds} seeds: it did not meet the criterion in its training "
                     f"context within the budget. Its transfer numbers from "
                     f"{'those seeds' if summary.n_met else 'every seed'} are meaningless as "
                     f"a measure of generalization")
    return notes


def _never_learned(spec: ExperimentSpec, learning: dict[str, dict[str, Any]]) -> list[str]:
    """A warning at the top for every agent of :func:`never_learned_notes`."""
    lines = []
    for note in never_learned_notes(spec, learning):
        lines += [f"> {note} (marked † in the tables).", ""]
    return lines


def criterion_unit(agent: AgentSpec) -> str:
    """What ``agent`` counts to the criterion: trials for the planner, else training
    episodes."""
    return "trials" if agent.agent == "planner" else "training episodes"


def _is_learner(kind: str) -> bool:
    """Whether agent name ``kind`` is a learning agent (an SB3 algorithm, or a class that
    learns and saves, such as ``mbrl``): the RL agents of the report."""
    from exgen.agents.registry import is_learning_agent

    return is_learning_agent(kind)


def _html(markdown: str, out: Path, figures: dict[str, Path | None]) -> str:
    """A self-contained page: the Markdown rendered by Python-Markdown (tables included),
    every figure and GIF inlined as a data URI."""
    import re

    from markdown import markdown as render

    def inline(match: re.Match[str]) -> str:
        name = match.group(1)
        kind = "gif" if name.endswith(".gif") else "png"
        data = base64.b64encode((out / name).read_bytes()).decode()
        return f'src="data:image/{kind};base64,{data}"'

    # Each image on its own paragraph line, so that GIFs of one agent sit side by side.
    body = re.sub(r'src="((?:figures|gifs)/[^"]+)"', inline,
                  render(markdown, extensions=["tables"], output_format="html"))
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
             "blockquote{border-left:4px solid #c60;margin:1em 0;padding:0 1em;"
             "background:#fff6ee}"
             "img{max-width:100%;margin:0 6px 6px 0;vertical-align:top}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>report</title>"
            f"<style>{style}</style></head><body>{body}</body></html>\n")
