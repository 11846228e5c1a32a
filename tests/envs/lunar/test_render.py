import gymnasium as gym
import numpy as np
import pytest

from exgen.envs.lunar import public
from exgen.envs.lunar.render import HEIGHT_PX, HULL, PX_PER_M, WIDTH_PX


def test_rgb_array_frames_have_the_right_shape_and_change():
    env = gym.make("LunarLanding-v0", render_mode="rgb_array", preset="strong_wind")
    env.reset(seed=0)
    first = env.render()
    assert first.shape == (HEIGHT_PX, WIDTH_PX, 3) and first.dtype == np.uint8
    for _ in range(10):
        env.step(public.FIRE_MAIN)
    assert not np.array_equal(first, env.render())
    env.close()


def test_the_frame_shows_the_lander_where_the_physics_has_it():
    env = gym.make("LunarLanding-v0", render_mode="rgb_array", initial_height=6.0)
    for seed in range(3):
        env.reset(seed=seed)
        for _ in range(15):
            env.step(public.NOOP)
        x, y = env.unwrapped.world.hull.position
        frame = env.render()
        column, row = round(x * PX_PER_M), round(HEIGHT_PX - y * PX_PER_M)
        patch = frame[row - 3:row + 4, column - 3:column + 4]
        assert (patch == HULL).all(axis=-1).any()
        hull_pixels = np.argwhere((frame == HULL).all(axis=-1))
        assert np.abs(hull_pixels.mean(axis=0) - (row, column)).max() < 12


def test_human_mode_runs_headless():
    env = gym.make("LunarLanding-v0", render_mode="human")
    env.reset(seed=0)
    env.step(public.FIRE_MAIN)
    assert env.render() is None
    env.close()


def test_render_without_a_mode_warns_and_returns_none():
    env = gym.make("LunarLanding-v0").unwrapped
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None
