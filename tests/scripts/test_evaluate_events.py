"""``exgen evaluate --events``: the CSV of every infraction and episode end, its values
against the env's, and its counts on stderr."""

import csv
import json

import gymnasium as gym
import numpy as np
import pytest

from exgen.agents.event_log import (
    COLUMNS,
    EpisodeTrace,
    EventRecorder,
    Reading,
    summary_lines,
)
from exgen.envs.city import heuristic, public
from exgen.scripts.cli import main


class RedRunner:
    """Follows the route with the heuristic driver, blind to traffic lights: it runs reds."""

    def __init__(self, env, seed=None):
        self.env = env
        self.index = public.layout(public.DEFAULT_LIDAR_RAYS)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        blind = np.array(observation, copy=True)
        blind[self.index["light_green"]:self.index["light_red"] + 1] = 0.0
        return heuristic.drive(blind, public.DEFAULT_LIDAR_RAYS), state


def read_rows(path):
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_evaluate_logs_each_infraction_and_each_end_and_counts_them(tmp_path, capsys):
    path = tmp_path / "logs" / "events.csv"
    assert main(["evaluate", "--agent", "tests.scripts.test_evaluate_events:RedRunner",
                 "--env", "CityDriving-v0", "--preset", "empty", "--episodes", "3",
                 "--seed", "1000", "--events", str(path)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # stdout is the JSON report alone
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS)
    rows = read_rows(path)
    ends = [row for row in rows if row["event"].startswith("end_")]
    assert [(row["episode"], row["seed"]) for row in ends] == [
        ("0", "1000"), ("1", "1001"), ("2", "1002")]
    assert {row["event"] for row in ends} == {f"end_{o}" for o in report["outcomes"]}
    reds = [row for row in rows if row["event"] == "red_light"]
    assert reds and all(row["light"] == "red" for row in reds)
    # As many rows of each kind as the env counted.
    for kind, mean in report["infractions_per_episode"].items():
        assert sum(row["event"] == kind for row in rows) == round(mean * 3)
    lines = captured.err.strip().splitlines()
    assert lines[0] == f"wrote {path} ({len(rows)} events)"
    assert lines[1:] == summary_lines(rows)
    assert lines[1].startswith(f"events: red_light {len(reds)} (")


@pytest.mark.parametrize("options", [
    {"continuous": False},
    {"lidar_rays": 8, "observe_context": True, "observe_route": True,
     "observe_road_users": True, "observe_raster": True},
])
def test_the_rows_hold_the_env_values_in_si_units(tmp_path, options):
    recorder = EventRecorder(gym.make("CityDriving-v0", preset="empty", **options),
                             tmp_path / "events.csv")
    discrete = isinstance(recorder.action_space, gym.spaces.Discrete)
    rng = np.random.default_rng(5)
    checked = 0
    for seed in (3, 4):
        recorder.reset(seed=seed)
        actions, done = [], False
        while not done:  # mostly full throttle (5: straight, throttle): it breaks rules
            action = (int(rng.integers(9)) if rng.random() < 0.3 else 5) if discrete \
                else np.array([rng.uniform(-0.3, 0.3), 1.0], np.float32)
            actions.append(action)
            before = len(recorder.rows)
            _, _, terminated, truncated, info = recorder.step(action)
            done = terminated or truncated
            for row in recorder.rows[before:]:
                assert row["seed"] == seed
                assert row["time_s"] == pytest.approx(info["time_s"])
                assert row["speed_mps"] == pytest.approx(info["speed_mps"], abs=2e-3)
                assert row["route_left_m"] == pytest.approx(info["route_distance_m"], abs=0.1)
                assert row["destination_next"] == (row["next_turn"] == "none")
                assert row["actions_1s"] == (
                    " ".join(map(str, actions[-10:])) if discrete
                    else " ".join(str(round(float(v), 3) + 0.0) for v in actions[-1]))
                checked += 1
    recorder.close()
    assert checked > 2 and any(not r["event"].startswith("end_") for r in recorder.rows)
    assert len(read_rows(tmp_path / "events.csv")) == len(recorder.rows)


def reading(light: str, speed: float = 0.0) -> Reading:
    return Reading(speed, light, None if light == "none" else 20.0, "left", 30.0, 500.0)


def test_the_light_letters_and_the_3s_before_values_look_back_from_the_latest_step():
    trace = EpisodeTrace(episode=0, seed=7, discrete=True)
    trace.start(reading("green"))
    for step in range(1, 41):  # 4 s: green, then amber from 1.8 s, red from 3.0 s
        light = "green" if step < 18 else "amber" if step < 30 else "red"
        trace.advance(step % 9, reading("none" if step == 35 else light, float(step)))
    row = trace.row("red_light")
    assert row["time_s"] == 4.0 and row["speed_mps"] == 40.0
    assert row["speed_3s_before_mps"] == 10.0  # the reading of step 10, at 1.0 s
    # Every 0.5 s from 1.5 s (step 15) to 4.0 s; step 35 saw no light.
    assert row["light_3s"] == "GAAR-R"
    assert row["actions_1s"] == " ".join(str(s % 9) for s in range(31, 41))
    young = EpisodeTrace(episode=1, seed=None, discrete=False)
    young.start(reading("amber"))
    young.advance(np.array([0.5, -1.0]), reading("none", 3.0))
    row = young.row("off_road")
    assert row["speed_3s_before_mps"] == 0.0 and row["light_3s"] == "AAAAA-"
    assert row["light_distance_m"] == "" and row["light_distance_3s_before_m"] == 20.0
    assert row["actions_1s"] == "0.5 -1.0" and row["seed"] == ""


def test_the_summary_counts_red_lights_with_the_destination_next_and_after_amber():
    rows = [{"event": "red_light", "destination_next": True, "light_3s": "GAARRR"},
            {"event": "red_light", "destination_next": False, "light_3s": "RRRRRR"},
            {"event": "end_arrived", "destination_next": True, "light_3s": "------"},
            {"event": "off_road", "destination_next": False, "light_3s": "GGGGGG"}]
    assert summary_lines(rows) == [
        "events: off_road 1",
        "events: red_light 2 (1 with the destination next, 1 on amber->red)",
        "events: end_arrived 1"]


def test_events_on_another_env_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert main(["evaluate", "--agent", "random", "--env", "LunarLanding-v0",
                 "--episodes", "1", "--events", str(tmp_path / "events.csv")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--events" in lines[0] and "LunarLanding-v0" in lines[0]
    assert not (tmp_path / "events.csv").exists()
