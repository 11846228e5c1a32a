"""Report figures, drawn from hand-made store rows."""

import json

import numpy as np

from exgen.experiments import report
from exgen.experiments.spec import load_spec
from exgen.experiments.statistics import censored_summary
from tests.experiments.test_compare import micro_spec


def test_the_learning_curve_marks_where_each_seed_met_the_criterion(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(report, "_save", lambda figure, path, **_: drawn.append(figure) or path)
    jobs = [{"job_id": "learn/random/10000", "kind": "learn",
             "summary": json.dumps({"criterion": {"met": {"episodes": 3, "steps": 900}}})},
            {"job_id": "learn/random/10001", "kind": "learn",
             "summary": json.dumps({"criterion": {"met": None}})}]
    learn = [{"job_id": job["job_id"], "agent": "random", "success": success}
             for job in jobs for success in (0, 1, 1, 1)]
    report._figure_learning(micro_spec(tmp_path), jobs, learn, tmp_path / "learning.png")

    lines = {line.get_label(): line for line in drawn[0].axes[0].get_lines()}
    assert set(lines) == {"random (2 seeds)", "random: criterion met (1 of 2 seeds)"}
    marker = lines["random: criterion met (1 of 2 seeds)"]
    curve = lines["random (2 seeds)"]
    assert list(marker.get_xdata()) == [3]  # at the seed's episode, on the agent's curve
    assert marker.get_ydata()[0] == curve.get_ydata()[2]
    assert marker.get_color() == curve.get_color()
    assert np.isfinite(marker.get_ydata()).all()


def test_the_criterion_star_is_not_clipped_at_full_success(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(report, "_save", lambda figure, path, **_: drawn.append(figure) or path)
    jobs = [{"job_id": "learn/random/10000", "kind": "learn",
             "summary": json.dumps({"criterion": {"met": {"episodes": 1, "steps": 300}}})}]
    learn = [{"job_id": jobs[0]["job_id"], "agent": "random", "success": 1}] * 4
    report._figure_learning(micro_spec(tmp_path), jobs, learn, tmp_path / "learning.png")

    axes = drawn[0].axes[0]
    star = next(line for line in axes.get_lines() if line.get_marker() == "*")
    low, high = axes.get_ylim()
    assert star.get_ydata()[0] == 1.0 and low < 1.0 < high
    # At the top edge, half the star would lie outside the axes: it must not be cut off.
    assert star.get_clip_on() is False
    left, right = axes.get_xlim()
    assert left <= star.get_xdata()[0] <= right


def test_figures_left_out_form_a_list_apart_from_the_images(tmp_path):
    import re

    (tmp_path / "figures").mkdir()
    figures = {}
    for name in ("learning", "heatmap"):
        figures[name] = tmp_path / "figures" / f"{name}.png"
        figures[name].write_bytes(b"png")
    figures |= {"infractions": None, "relearning": None}
    markdown = "\n".join(["## Figures", "", *report._figures_markdown(figures)]) + "\n"
    html = report._html(markdown, tmp_path, figures)

    paragraphs = re.findall(r"<p>(.*?)</p>", html, re.S)
    assert [p.count("<img") for p in paragraphs if "<img" in p] == [1, 1]
    assert not any("not drawn" in p for p in paragraphs)
    items = re.findall(r"<ul>\s*(.*?)\s*</ul>", html, re.S)
    assert len(items) == 1
    assert re.findall(r"<li>(\w+): not drawn", items[0]) == ["infractions", "relearning"]
    assert "no infractions" in items[0] and "relearned" in items[0]


def test_only_drawn_figures_give_no_list():
    assert report._figures_markdown({"learning": None}) == [
        "- learning: not drawn (the contexts lack the fields it needs)."]
    assert report._figures_markdown({}) == []


def test_failed_jobs_are_a_list_after_the_jobs_paragraph(tmp_path):
    import re

    spec = micro_spec(tmp_path)
    job = {"job_id": "learn/buggy/10000", "status": "failed", "error": "Trace\nKeyError: 'x'"}
    pending = {"job_id": "transfer/buggy/10000/moon", "status": "pending", "error": None}
    markdown = report._markdown(spec, {}, [], {}, [job], [job, pending], {}, {})
    html = report._html(markdown, tmp_path, {})
    jobs = html[html.index("<h2>Jobs</h2>"):]
    assert re.search(r"<p>0 of 2 jobs done, 1 failed.\s*1 jobs not run:.*?</p>\s*<ul>\s*"
                     r"<li><code>learn/buggy/10000</code> failed: KeyError: 'x'</li>", jobs,
                     re.S)


def test_infractions_stack_in_the_order_the_world_declares(tmp_path, monkeypatch):
    from exgen.envs.world_info import WorldInfo
    from exgen.experiments.statistics import Interval

    drawn = []
    monkeypatch.setattr(report, "_save", lambda figure, path, **_: drawn.append(figure) or path)
    spec = micro_spec(tmp_path)
    agent, test = spec.agents[0].name, spec.tests[0].name
    point = Interval(0.5, 0.2, 0.8)
    rows = [report.TransferRow(agent, test, "extrapolation", point, point, "1", {})]
    transfer = [{"agent": agent, "job_id": f"transfer/{agent}/10000/{test}",
                 "infractions": {"zebra": 1, "b_rule": 2, "a_rule": 1}}]
    world = WorldInfo("X-v0", infractions=("b_rule", "a_rule"))
    report._figure_infractions(spec, world, rows, transfer, tmp_path / "i.png")
    legend = [t.get_text() for t in drawn[0].axes[1].get_legend().get_texts()]
    assert legend == ["b rule", "a rule", "zebra"]


def test_the_report_names_its_intervals_and_shows_every_seed(tmp_path):
    from exgen.experiments.statistics import censored_summary, success_rate_ci

    spec = micro_spec(tmp_path)
    agent, seeds = spec.agents[0].name, spec.seeds
    first = {s: [True] * 10 for s in seeds}
    worse = {s: [i < 6 + k for i in range(10)] for k, s in enumerate(seeds)}
    rows = [report.TransferRow(agent, test.name, "extrapolation", success_rate_ci(data),
                               success_rate_ci(data), "1", {},
                               {s: sum(v) / len(v) for s, v in data.items()})
            for test, data in zip(spec.tests, (first, worse), strict=False)]
    learning = {agent: {"summary": censored_summary([3.0] * len(seeds), 10.0)}}
    text = report._markdown(spec, learning, rows, {}, [], [], {}, {})

    assert "bootstrap confidence intervals over seeds" not in text
    assert "Intervals: 95% interval over seeds and instances (two-level bootstrap)." in text
    assert f"| agent | test | {' | '.join(f'seed {s}' for s in seeds)} |" in text
    assert f"| {agent} | {rows[-1].test} | 0.60 | 0.70 |" in text
    assert f"(worst: {rows[-1].test} 0.65)" in text
    assert "1.00 [1.00, 1.00]" not in text  # all successes: never a zero-width interval
    # Next to the headline: what each agent sees and how it acts, the planner included.
    assert text.index("## Headline") < text.index("## What each agent sees and how it acts")
    assert "| planner | planner | 8 floats: x, y (from the pad), vx, vy," in text
    assert "the world publishes nothing else" in text
    html = report._html(text, tmp_path, {})
    section = html[html.index("<h2>What each agent sees and how it acts</h2>"):]
    assert section.index("<table>") < section.index("<h2>Transfer</h2>")
    assert "<td>random</td>" in section and "<td>hidden (not observed)</td>" in section


def test_the_csv_tables_hold_both_snapshots_and_every_seed(tmp_path):
    import csv
    import dataclasses

    spec = micro_spec(tmp_path)
    agent, test = spec.agents[1].name, spec.tests[0]
    seeds, trials = spec.seeds, spec.trials

    def episodes(successes_by_seed):
        return [{"job_id": f"transfer/{agent}/{seed}/{test.name}", "agent": agent,
                 "seed": seed, "episode": i * trials + t, "context": dict(test.context),
                 "success": success if t == 0 else True}
                for seed, successes in successes_by_seed.items()
                for i, success in enumerate(successes) for t in range(trials)]

    final = report._transfer_rows(spec, [], episodes({s: [True, True, False] for s in seeds}))
    at_criterion = [dataclasses.replace(r, snapshot=report.AT_CRITERION) for r in
                    report._transfer_rows(spec, [], episodes({seeds[0]: [False, True],
                                                              seeds[1]: [False, False]}))]
    (tmp_path / "tables").mkdir()
    report._write_tables(tmp_path, {}, report._with_criterion_rows(final, at_criterion))

    with (tmp_path / "tables" / "transfer.csv").open(encoding="utf-8") as file:
        transfer = list(csv.DictReader(file))
    assert [(r["agent"], r["snapshot"], r["test"]) for r in transfer] == [
        (agent, "fully trained", test.name), (agent, "at criterion", test.name)]
    assert transfer[0]["interval_method"] == final[0].first_trial.method != ""
    assert float(transfer[1]["first_trial"]) == at_criterion[0].first_trial.point
    with (tmp_path / "tables" / "per_seed.csv").open(encoding="utf-8") as file:
        per_seed = list(csv.DictReader(file))
    assert [(r["snapshot"], int(r["seed"]), float(r["first_trial"]), int(r["instances"]))
            for r in per_seed] == [("fully trained", seeds[0], 2 / 3, 3),
                                   ("fully trained", seeds[1], 2 / 3, 3),
                                   ("at criterion", seeds[0], 0.5, 2),
                                   ("at criterion", seeds[1], 0.0, 2)]
    assert {r["agent"] for r in per_seed} == {agent}
    assert {r["test"] for r in per_seed} == {test.name}


def _learn_job(agent: str, summary: dict) -> dict:
    return {"kind": "learn", "agent": agent, "status": "done", "test_context": None,
            "summary": json.dumps(summary)}


def test_env_steps_to_criterion_are_summarised_beside_the_episodes(tmp_path):
    spec = load_spec("gravity-shift", "quick")
    met = {"episodes": 40, "total_steps": 30_000_000,
           "criterion": {"met": {"episodes": 20, "timesteps": 11_000_064}}}
    never = {"episodes": 60, "total_steps": 30_000_000, "criterion": {"met": None}}
    learning = report._learning(spec, [_learn_job("ppo", met), _learn_job("ppo", never)], [])
    steps = learning["ppo"]["steps_summary"]
    assert steps == censored_summary([11_000_064.0, None], [30_000_000.0, 30_000_000.0])
    assert (steps.n_met, steps.n_seeds) == (1, 2)
    text = report._markdown(spec, learning, [], {}, [], [], {}, {})
    bullet = next(line for line in text.splitlines() if line.startswith("- **ppo**"))
    assert f"env steps to criterion {steps.median} (IQR " in bullet
    # A run that did not count its steps leaves the steps out.
    older = {"episodes": 40, "criterion": {"met": {"episodes": 20}}}
    assert "steps_summary" not in report._learning(spec, [_learn_job("ppo", older)], [])["ppo"]
