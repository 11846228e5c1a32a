"""Seeded ``CityDriving-v0`` episodes replay as they were recorded (``v0_replay.py``).

On a machine like the recording's (same numpy, same SIMD extensions) every observation,
reward, end and ``info`` must match to the last bit. Elsewhere numpy's transcendental
functions may differ by an ulp, so observations and rewards must agree within 1e-5 and
the ends exactly; the ``info`` digests, which hold every float's exact bits, are then
not compared.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.envs.city.v0_replay import EPISODES, FIXTURE, machine, play

RECORDED = np.load(FIXTURE)
SAME_MACHINE = str(RECORDED["machine"]) == machine()


@pytest.mark.parametrize("k", range(len(EPISODES)),
                         ids=[f"{k}-{driver}" for k, (_, _, driver) in enumerate(EPISODES)])
def test_a_recorded_v0_episode_replays_step_for_step(k: int) -> None:
    fields, seed, _ = EPISODES[k]
    played = play(fields, seed, RECORDED[f"{k}/actions"])
    ends = RECORDED[f"{k}/ends"]
    np.testing.assert_array_equal(played["ends"], ends)
    if SAME_MACHINE:
        for key in ("observations", "rewards", "digests"):
            expected = RECORDED[f"{k}/{key}"]
            differ = np.flatnonzero(
                (played[key] != expected).reshape(len(expected), -1).any(axis=1))
            assert not len(differ), f"{key} first differ at step {differ[0]} of {len(expected)}"
    else:
        np.testing.assert_allclose(played["observations"], RECORDED[f"{k}/observations"],
                                   rtol=0, atol=1e-5)
        np.testing.assert_allclose(played["rewards"], RECORDED[f"{k}/rewards"], rtol=0,
                                   atol=1e-5)


def test_the_fixture_covers_what_the_batched_world_must_keep() -> None:
    presets = {str(fields.get("preset")) for fields, _, _ in EPISODES}
    for needed in ("rush_hour", "ice", "left_hand", "truck", "van", "compact"):
        assert any(needed in preset for preset in presets), needed
    assert any("map_file" in fields for fields, _, _ in EPISODES)
    outcomes = [RECORDED[f"{k}/ends"][-1].tolist() for k in range(len(EPISODES))]
    assert [True, False] in outcomes and [False, False] in outcomes
    rewards = np.concatenate([RECORDED[f"{k}/rewards"] for k in range(len(EPISODES))])
    assert (rewards < -19.0).any() and (rewards > 19.0).any()  # collisions and arrivals
