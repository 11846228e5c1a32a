import json
from dataclasses import replace

import pytest

from exgen.agents.records import EpisodeLog, EpisodeRecord, read_log


def record(index: int, steps: int) -> EpisodeRecord:
    return EpisodeRecord(episode=index, total_steps=steps, episode_return=1.5 * index,
                         length=10, is_success=index % 2 == 0, outcome="landed",
                         wall_time=0.1 * index, agent="random", seed=3,
                         context={"gravity": 3.71, "pad": [1, 2]})


def test_log_is_monitor_csv_that_pandas_and_sb3_read(tmp_path):
    from stable_baselines3.common.results_plotter import load_results

    log = EpisodeLog(tmp_path, "LunarLanding-v0")
    for i in range(3):
        log.write(record(i, 10 * (i + 1)))
    log.close()
    header = (tmp_path / "monitor.csv").read_text().splitlines()[0]
    assert json.loads(header[1:])["env_id"] == "LunarLanding-v0"
    frame = load_results(str(tmp_path))
    assert frame["r"].tolist() == [0.0, 1.5, 3.0]
    assert frame["total_steps"].tolist() == [10, 20, 30]
    assert json.loads(frame["context"][1]) == {"gravity": 3.71, "pad": [1, 2]}


def test_resume_continues_counting_and_drops_a_torn_last_line(tmp_path):
    log = EpisodeLog(tmp_path, "LunarLanding-v0")
    log.write(record(0, 10))
    log.write(record(1, 20))
    log.close()
    path = tmp_path / "monitor.csv"
    path.write_bytes(path.read_bytes() + b'4.5,10,0.3,2,30,1,landed,random,3,"{""grav')
    assert len(read_log(path)) == 2
    resumed = EpisodeLog(tmp_path, "LunarLanding-v0", resume=True)
    assert (resumed.episodes, resumed.total_steps) == (2, 20)
    resumed.write(record(2, 30))
    resumed.close()
    assert [row["episode"] for row in read_log(path)] == ["0", "1", "2"]


def test_a_row_still_being_written_is_never_read_wherever_it_is_cut(tmp_path):
    log = EpisodeLog(tmp_path, "CityDriving-v0")
    log.write(record(0, 10))
    log.close()
    path = tmp_path / "monitor.csv"
    head = path.read_bytes()
    row = (b'3.1,346,42.9,1,20,0,gave_up,ppo,10000,"{""map_seed"":10000}",'
           b'"{""red_light"":1,""wrong_lane"":0,""off_road"":0}"\n')
    for cut in range(1, len(row)):
        path.write_bytes(head + row[:cut])
        assert [r["episode"] for r in read_log(path)] == ["0"]
    path.write_bytes(head + row)
    assert [r["episode"] for r in read_log(path)] == ["0", "1"]


def test_the_log_tallies_episodes_and_steps_per_outcome_across_a_resume(tmp_path):
    log = EpisodeLog(tmp_path, "CityDriving-v0")
    log.write(record(0, 10))
    log.write(replace(record(1, 310), outcome="gave_up", length=300))
    log.close()
    resumed = EpisodeLog(tmp_path, "CityDriving-v0", resume=True)
    resumed.write(replace(record(2, 610), outcome="gave_up", length=300))
    resumed.close()
    assert resumed.outcomes == {"landed": {"episodes": 1, "steps": 10},
                                "gave_up": {"episodes": 2, "steps": 600}}


def test_an_existing_log_is_never_overwritten(tmp_path):
    EpisodeLog(tmp_path, "LunarLanding-v0").close()
    with pytest.raises(FileExistsError, match="--resume"):
        EpisodeLog(tmp_path, "LunarLanding-v0")


def test_a_logged_row_reads_back_as_the_same_record(tmp_path):
    log = EpisodeLog(tmp_path, "LunarLanding-v0")
    log.write(record(2, 30))
    log.close()
    assert EpisodeRecord.from_row(read_log(tmp_path / "monitor.csv")[0]) == record(2, 30)
