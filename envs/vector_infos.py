"""Many envs' infos as one, in Gymnasium's vector conventions, built a key at a time.

:func:`stack_infos` gives what ``VectorEnv._add_info`` gives when called env after env
(arrays over the envs, a ``_key`` mask of the envs that have the key, nested dicts
likewise, an array's dtype that of the first value), with one array per key instead
of one assignment per env and key; values of a key that differ in type (envs of
different contexts: a map seed beside None) make an array of objects instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def stack_infos(infos: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    """One info per env (None: the env has none) as one vector info."""
    n = len(infos)
    keys: dict[str, None] = {}
    for info in infos:
        if info:
            keys.update(dict.fromkeys(info))
    stacked: dict[str, Any] = {}
    for key in keys:
        mask = np.array([info is not None and key in info for info in infos], np.bool_)
        present = [info[key] for info, has in zip(infos, mask, strict=True) if has]
        if isinstance(present[0], dict):
            stacked[key] = stack_infos([info[key] if has else None
                                        for info, has in zip(infos, mask, strict=True)])
        else:
            stacked[key] = _column(present, mask, n)
        stacked[f"_{key}"] = mask
    return stacked


def _column(values: list[Any], mask: np.ndarray, n: int) -> np.ndarray:
    """One key's values as an array: of the first value's dtype, or of objects where the
    values are not all alike (a map seed beside None, an int beside a float), each kept
    as it is (``VectorEnv._add_info`` would refuse or round them)."""
    first = values[0]
    if not _alike(first, values):
        array = np.full(n, fill_value=None, dtype=object)
        array[np.flatnonzero(mask)] = _objects(values)
        return array
    if type(first) in (int, float, bool) or issubclass(type(first), np.number):
        array = np.zeros(n, dtype=type(first))
    elif isinstance(first, np.ndarray):
        array = np.zeros((n, *first.shape), dtype=first.dtype)
    else:
        array = np.full(n, fill_value=None, dtype=object)
        for i, value in zip(np.flatnonzero(mask), values, strict=True):
            array[i] = value
        return array
    if mask.all():
        array[:] = values
    else:
        array[mask] = values
    return array


def _alike(first: Any, values: list[Any]) -> bool:
    """Whether ``values`` are all of ``first``'s type (and arrays of its shape and dtype)."""
    kind = type(first)
    if isinstance(first, np.ndarray):
        return all(type(v) is kind and v.shape == first.shape and v.dtype == first.dtype
                   for v in values)
    return all(type(v) is kind for v in values)


def _objects(values: list[Any]) -> np.ndarray:
    """``values`` as a flat object array, arrays and sequences among them kept whole."""
    objects = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        objects[i] = value
    return objects


def stack_infos_of(infos: dict[int, dict[str, Any]], n: int) -> dict[str, Any]:
    """What :func:`stack_infos` gives for ``n`` envs of which only those in ``infos`` (by
    index) have an info, stacked over those alone and then spread over the ``n``."""
    at = np.array(sorted(infos), np.int64)
    return _spread(stack_infos([infos[i] for i in at.tolist()]), at, n)


def _spread(stacked: dict[str, Any], at: np.ndarray, n: int) -> dict[str, Any]:
    """Stacked infos of the envs ``at`` as those of ``n`` envs (the others without)."""
    spread: dict[str, Any] = {}
    for key, value in stacked.items():
        if isinstance(value, dict):
            spread[key] = _spread(value, at, n)
            continue
        if value.dtype == object:
            full = np.full(n, fill_value=None, dtype=object)
        else:
            full = np.zeros((n, *value.shape[1:]), dtype=value.dtype)
        full[at] = value
        spread[key] = full
    return spread
