"""The protocol's seed ranges (docs/protocol.md), and fresh held-out seeds.

Development and tests use seeds below 10,000, training 10,000 to 999,999, and
benchmarks and reports seeds of 1,000,000 and above, drawn fresh per run and printed.
Hyperparameter tuning evaluates on ``TUNING_SEEDS``, the top of the training range,
which training runs never seed from.
"""

from __future__ import annotations

import random

DEVELOPMENT_SEEDS = range(0, 10_000)
TRAINING_SEEDS = range(10_000, 1_000_000)
HELD_OUT_SEED_MIN = 1_000_000
TUNING_SEEDS = range(900_000, HELD_OUT_SEED_MIN)


def draw_held_out_seed(count: int) -> int:
    """The first of ``count`` consecutive held-out seeds, drawn from the OS's entropy
    so that nothing chosen during development can pick it."""
    return random.SystemRandom().randrange(HELD_OUT_SEED_MIN, 2**31 - count)
