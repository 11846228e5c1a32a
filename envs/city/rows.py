"""Per-row arrays of several cities, joined city after city or with one city's rows
replaced: the bookkeeping shared by the joined traffic, pedestrians and arcs.

Some arrays hold numbers that count across the joined cities (an arc, an
intersection, a city): joined, each city's get its city's offset; replaced, the new
city's get its offset and the later cities' move by the change in count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def join_rows(parts: Sequence[Any], names: Sequence[str],
              offsets: Mapping[str, Sequence[int]]) -> dict[str, np.ndarray]:
    """Each array ``names`` of ``parts`` concatenated; one named in ``offsets`` with its
    part's offset added."""
    joined = {}
    for name in names:
        pieces = [getattr(part, name) for part in parts]
        if name in offsets:
            pieces = [piece + base for piece, base in zip(pieces, offsets[name], strict=False)]
        joined[name] = np.concatenate(pieces)
    return joined


def replace_rows(joined: Any, part: Any, names: Sequence[str], rows: slice,
                 offsets: Mapping[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """Each array ``names`` of ``joined`` with ``rows`` replaced by ``part``'s (of any
    length); ``offsets[name]`` is (added to the part's values, added to the later
    rows')."""
    replaced = {}
    for name in names:
        old, piece = getattr(joined, name), getattr(part, name)
        later = old[rows.stop:]
        if name in offsets:
            start, shift = offsets[name]
            piece, later = piece + start, later + shift
        replaced[name] = np.concatenate([old[:rows.start], piece, later])
    return replaced


def joined_bases(bases: Sequence[np.ndarray]) -> np.ndarray:
    """The first row of every city once parts whose cities start at ``bases`` (each
    ending with its row count) are joined."""
    counts = [n for base in bases for n in np.diff(base)]
    return np.concatenate([[0], np.cumsum(counts)]).astype(int)
