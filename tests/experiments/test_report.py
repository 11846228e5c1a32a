"""Report figures, drawn from hand-made store rows."""

import json

import numpy as np

from exgen.experiments import report
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
