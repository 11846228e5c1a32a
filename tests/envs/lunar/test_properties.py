"""Property tests: any valid context and any actions keep the env finite and in bounds."""

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from exgen.envs.lunar.config import LanderConfig, field_bounds, numeric_field_names


@st.composite
def contexts(draw) -> dict:
    """Some numeric fields set to a random valid value or range; the rest default."""
    fields = {}
    for name in draw(st.lists(st.sampled_from(numeric_field_names()), unique=True,
                              max_size=8)):
        bounds = field_bounds(name)
        value = st.floats(bounds.low, bounds.high, exclude_min=bounds.open_low,
                          allow_nan=False, allow_infinity=False)
        if draw(st.booleans()):
            fields[name] = draw(value)
        else:
            a, b = draw(value), draw(value)
            fields[name] = (min(a, b), max(a, b))
    fields["continuous"] = draw(st.booleans())
    return fields


EPISODES = given(
    fields=contexts(), seed=st.integers(0, 9_999), observe=st.booleans(),
    actions=st.lists(st.integers(0, 3), min_size=1, max_size=40),
    continuous_actions=st.lists(st.tuples(st.floats(-3, 3), st.floats(-3, 3)), min_size=1,
                                max_size=40))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@EPISODES
def test_random_contexts_and_actions_stay_finite_and_inside_the_space(**episode):
    check_finite_and_inside(**episode)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@EPISODES
def test_many_random_contexts_stay_finite_and_inside_the_space(**episode):
    check_finite_and_inside(**episode)


def check_finite_and_inside(fields, seed, observe, actions, continuous_actions):
    try:
        LanderConfig(**fields)
    except ValueError as error:  # each field is valid; only the pad may not fit
        assume("outside the world" not in str(error))
        raise
    env = gym.make("LunarLanding-v0", observe_fuel=observe, observe_context=observe, **fields)
    observation, _ = env.reset(seed=seed)
    assert env.observation_space.contains(observation)
    plan = ([np.array(a, np.float32) for a in continuous_actions] if fields["continuous"]
            else actions)
    for step in range(300):
        observation, reward, terminated, truncated, info = env.step(plan[step % len(plan)])
        assert np.all(np.isfinite(observation)) and np.isfinite(reward)
        assert env.observation_space.contains(observation), observation
        assert 0.0 <= info["fuel"] <= env.unwrapped.context.fuel_mass
        if terminated or truncated:
            observation, _ = env.reset()
