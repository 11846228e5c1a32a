"""Gymnasium's own wrappers work on our envs."""

import gymnasium as gym
from gymnasium.wrappers import RecordEpisodeStatistics, RecordVideo


def test_record_episode_statistics():
    env = RecordEpisodeStatistics(gym.make("LunarLanding-v0"))
    env.reset(seed=0)
    while True:
        *_, terminated, truncated, info = env.step(env.action_space.sample())
        if terminated or truncated:
            break
    assert info["episode"]["l"] > 0 and "r" in info["episode"]


def test_record_video_writes_an_mp4(tmp_path):
    env = RecordVideo(gym.make("LunarLanding-v0", render_mode="rgb_array"),
                      str(tmp_path / "videos"),
                      episode_trigger=lambda episode: True, disable_logger=True)
    env.reset(seed=0)
    for _ in range(30):
        *_, terminated, truncated, _ = env.step(2)
        if terminated or truncated:
            break
    env.close()
    videos = list((tmp_path / "videos").glob("*.mp4"))
    assert videos and videos[0].stat().st_size > 1000
