"""Statistics for reports: IQM, bootstrap confidence intervals, censored summaries, labels.

Everything here takes plain numbers (per-seed scores, per-episode successes, episodes to
criterion) and returns small frozen dataclasses whose ``str`` is ready for a report. Uses
numpy only. Vocabulary as in docs/protocol.md: a *seed* is one independent run of an agent; a
*success* is the env's ``info["is_success"]`` at episode end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

__all__ = [
    "CensoredSummary",
    "CensoredValue",
    "Interval",
    "censored_summary",
    "generalization_gap",
    "iqm",
    "label_pair",
    "stratified_bootstrap_ci",
    "success_rate_ci",
]


def _fmt(x: float) -> str:
    """A number for a report: integers without a decimal point, others to at most 2
    decimals with no trailing zero (4409.5, 1.25)."""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- IQM


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """Interquartile mean: sort, drop ``floor(0.25 * n)`` values from each end, average the rest.

    Identical to ``scipy.stats.trim_mean(values, 0.25)``; same units as ``values``.
    """
    x = np.sort(np.asarray(values, dtype=float).ravel())
    if x.size == 0:
        raise ValueError("iqm: values is empty")
    cut = int(0.25 * x.size)
    return float(np.mean(x[cut : x.size - cut]))


# --------------------------------------------------------------------------- bootstrap


@dataclass(frozen=True)
class Interval:
    """A statistic on the original data (``point``) with a bootstrap interval [low, high]."""

    point: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.point:.2f} [{self.low:.2f}, {self.high:.2f}]"


def stratified_bootstrap_ci(
    scores: Mapping[Hashable, Sequence[float]],
    statistic: Callable[[np.ndarray], float] = np.mean,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of ``statistic`` over all scores pooled.

    ``scores`` maps a stratum (e.g. a test context) to its per-seed scores. Each resample
    draws, within every stratum independently, as many scores as it has, with replacement;
    the strata are concatenated (in mapping order) and ``statistic`` applied. ``seed`` seeds
    ``numpy.random.default_rng``, so the result is deterministic.
    """
    if not scores:
        raise ValueError("scores: no strata given")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples!r}")
    strata = []
    for name, values in scores.items():
        x = np.asarray(values, dtype=float).ravel()
        if x.size == 0:
            raise ValueError(f"scores: stratum {name!r} is empty")
        if not np.all(np.isfinite(x)):
            raise ValueError(
                f"scores: stratum {name!r} has non-finite values "
                "(summarize right-censored values with censored_summary)"
            )
        strata.append(x)

    rng = np.random.default_rng(seed)
    resampled = np.concatenate(
        [x[rng.integers(0, x.size, size=(n_resamples, x.size))] for x in strata], axis=1
    )
    stats = np.array([float(statistic(row)) for row in resampled])
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(stats, [tail, 100.0 - tail])
    point = float(statistic(np.concatenate(strata)))
    return Interval(point=point, low=float(low), high=float(high))


def _success_rates(successes_by_seed: Mapping[Hashable, Sequence[bool]], name: str) -> np.ndarray:
    """Per-seed success rate (fraction of that seed's episodes that succeeded), in key order."""
    if not successes_by_seed:
        raise ValueError(f"{name}: no seeds given")
    rates = []
    for key, episodes in successes_by_seed.items():
        x = np.asarray(episodes, dtype=float).ravel()
        if x.size == 0:
            raise ValueError(f"{name}: seed {key!r} has no episodes")
        if not np.all((x == 0.0) | (x == 1.0)):
            raise ValueError(f"{name}: seed {key!r} has values other than True/False")
        rates.append(x.mean())
    return np.array(rates)


def success_rate_ci(
    successes_by_seed: Mapping[str | int, Sequence[bool]],
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Mean over seeds of each seed's success rate (fraction in [0, 1]), bootstrapped over seeds.

    Seeds, not episodes, are the resampled unit: episodes of one seed are not independent.
    """
    rates = _success_rates(successes_by_seed, "successes_by_seed")
    return stratified_bootstrap_ci(
        {"all": rates}, np.mean, n_resamples=n_resamples, confidence=confidence, seed=seed
    )


def generalization_gap(
    train_success_by_seed: Mapping[str | int, Sequence[bool]],
    test_success_by_seed: Mapping[str | int, Sequence[bool]],
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Train success rate minus test success rate, paired by seed, bootstrapped over seeds.

    In [-1, 1]; positive means the agent does worse on the test contexts.
    """
    only_train = sorted(set(train_success_by_seed) - set(test_success_by_seed), key=repr)
    only_test = sorted(set(test_success_by_seed) - set(train_success_by_seed), key=repr)
    if only_train or only_test:
        raise ValueError(
            "generalization_gap: seeds must match; "
            f"missing from test_success_by_seed: {only_train or 'none'}, "
            f"missing from train_success_by_seed: {only_test or 'none'}"
        )
    keys = list(train_success_by_seed)
    train = _success_rates({k: train_success_by_seed[k] for k in keys}, "train_success_by_seed")
    test = _success_rates({k: test_success_by_seed[k] for k in keys}, "test_success_by_seed")
    return stratified_bootstrap_ci(
        {"all": train - test}, np.mean, n_resamples=n_resamples, confidence=confidence, seed=seed
    )


# --------------------------------------------------------------------------- censored data


@dataclass(frozen=True)
class CensoredValue:
    """An order statistic of right-censored data.

    When ``censored`` is False, ``value`` is the statistic itself. When True, the statistic
    involves censored values and ``value`` is a lower bound on it: strict (shown ">")
    when ``strict``, else the statistic may equal it (shown "≥"; a seed censored below a
    met value may really lie on either side of it).
    """

    value: float
    censored: bool
    strict: bool = True

    def __str__(self) -> str:
        mark = (">" if self.strict else "≥") if self.censored else ""
        return mark + _fmt(self.value)


@dataclass(frozen=True)
class CensoredSummary:
    """Summary of a per-seed quantity that may be right-censored.

    ``budget`` is the largest censoring point; ``met_fraction`` is the fraction of seeds
    that met the criterion within their budget; ``median`` and ``quartiles`` (25th,
    75th percentile) are in the units of the input.
    """

    budget: float
    n_met: int
    n_seeds: int
    median: CensoredValue
    quartiles: tuple[CensoredValue, CensoredValue]

    @property
    def met_fraction(self) -> float:
        return self.n_met / self.n_seeds

    def __str__(self) -> str:
        q1, q3 = self.quartiles
        sep = " to " if q3.censored else "-"
        return f"{self.median} (IQR {q1}{sep}{q3}), {self.n_met}/{self.n_seeds} seeds met"


def _order_statistic(bounds: np.ndarray, met: np.ndarray, k: int) -> tuple[bool, bool]:
    """Whether the k-th smallest (0-based) of the true values is exactly ``bounds``'s
    k-th smallest ``t``, and whether it is surely above ``t``: a met value is its bound,
    a censored one lies above its bound."""
    t = np.sort(bounds)[k]
    at_most_t = int(np.sum(met & (bounds <= t)))
    exact = at_most_t >= k + 1
    strict = at_most_t + int(np.sum(~met & (bounds < t))) <= k
    return exact, strict


def _censored_quantile(bounds: np.ndarray, met: np.ndarray, q: float) -> CensoredValue:
    """Linear-interpolation quantile (numpy's default) of values known exactly where
    ``met`` and only to exceed ``bounds`` elsewhere: the quantile of the bounds, a lower
    bound on the true one (order statistics only grow with the values), exact when the
    order statistics it interpolates are."""
    pos = q * (bounds.size - 1)
    lo = math.floor(pos)
    frac = pos - lo
    used = [lo, lo + 1] if frac > 0.0 else [lo]  # the order statistics interpolated
    states = [_order_statistic(bounds, met, k) for k in used]
    value = float(np.quantile(bounds, q))
    if all(exact for exact, _ in states):
        return CensoredValue(value, censored=False)
    return CensoredValue(value, censored=True, strict=any(strict for _, strict in states))


def censored_summary(values: Sequence[float | None],
                     budget: float | Sequence[float]) -> CensoredSummary:
    """Median and quartiles of per-seed values, e.g. episodes to criterion, with censoring.

    ``None`` means the seed never met the criterion within its budget: ``budget``, or
    its own entry when ``budget`` is one per seed (a seed that trained for fewer
    episodes is censored lower). It is never dropped. Quantiles use numpy's linear
    interpolation over the known values and budgets; one that a censored value could
    raise is reported as a lower bound, so ">5000" means "more than 5000".
    """
    if not values:
        raise ValueError("censored_summary: values is empty")
    budgets = ([budget] * len(values) if isinstance(budget, int | float)
               else list(budget))
    if len(budgets) != len(values):
        raise ValueError(f"budget: one per seed ({len(values)}), got {len(budgets)}")
    if not all(math.isfinite(b) and b > 0 for b in budgets):
        raise ValueError(f"budget must be finite and positive, got {budget!r}")
    for value, limit in zip(values, budgets, strict=True):
        if value is not None and not (math.isfinite(value) and 0 <= value <= limit):
            raise ValueError(f"values: met values must lie in [0, budget={limit!r}], "
                             f"got {value!r}")
    met = np.array([v is not None for v in values])
    bounds = np.array([float(b if v is None else v)
                       for v, b in zip(values, budgets, strict=True)])
    return CensoredSummary(
        budget=float(max(budgets)),
        n_met=int(met.sum()),
        n_seeds=len(values),
        median=_censored_quantile(bounds, met, 0.5),
        quartiles=(_censored_quantile(bounds, met, 0.25), _censored_quantile(bounds, met, 0.75)),
    )


# --------------------------------------------------------------------------- labels


def _is_number(v: Any) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool | np.bool_)


def _as_range(v: Any) -> tuple[float, float] | None:
    """(low, high) for a number or a two-number range (list/tuple); None if not numeric."""
    if _is_number(v):
        lo = hi = float(v)
    elif isinstance(v, list | tuple) and len(v) == 2 and all(map(_is_number, v)):
        lo, hi = float(v[0]), float(v[1])
    else:
        return None
    if math.isnan(lo) or math.isnan(hi) or lo > hi:
        raise ValueError(f"invalid numeric value or range: {v!r}")
    return lo, hi


def _same(a: Any, b: Any) -> bool:
    """Equality that does not confuse True with 1."""
    return type(a) is type(b) and a == b


_MISSING = object()


def _field_inside(test_value: Any, training_values: list[Any]) -> bool:
    """Whether one field's test value lies inside the training values of that field."""
    test_range = _as_range(test_value)
    if test_range is None:
        return any(_same(test_value, v) for v in training_values)
    ranges = [r for r in map(_as_range, training_values) if r is not None]
    if not ranges:
        return False
    low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
    return low <= test_range[0] and test_range[1] <= high


def _member(test_value: Any, training_values: list[Any]) -> bool:
    """Whether a categorical test value is one of the training values (or lists)."""
    for value in training_values:
        choices = value if isinstance(value, (list, tuple)) else [value]
        if any(_same(test_value, choice) for choice in choices):
            return True
    return False


def label_pair(
    training_contexts: Sequence[Mapping[str, Any]],
    test_context: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
    categorical: Collection[str] = (),
) -> str:
    """Label a (training set, test context) pair "interpolation" or "extrapolation".

    Fields named in ``categorical`` (a map seed, say) are labels, not numbers: the test
    value is inside only if it equals a training value or is one of a training list
    (a training set of cities), so a map seed between two training seeds is still a new map.

    Per field: a number (or a (low, high) range, both ends) is inside if it lies within
    [min, max] over the training values, where a training value may be a (low, high) range
    (domain randomization). Anything else (string, bool, None, a map) is inside only if it
    equals a training value. A field a context omits takes its value from ``defaults``; a
    test field with no training value even through ``defaults`` is extrapolation. Fields
    that only the training contexts set are checked too when ``defaults`` gives the test's
    value. The pair is interpolation only if every field is inside.
    """
    if not training_contexts:
        raise ValueError("training_contexts is empty")
    defaults = defaults or {}
    fields = set(test_context)
    fields |= {f for ctx in training_contexts for f in ctx if f in defaults}
    for field in sorted(fields):
        test_value = test_context.get(field, defaults.get(field, _MISSING))
        training_values = [
            v
            for ctx in training_contexts
            if (v := ctx.get(field, defaults.get(field, _MISSING))) is not _MISSING
        ]
        inside = (_member(test_value, training_values) if field in categorical
                  else _field_inside(test_value, training_values))
        if not inside:
            return "extrapolation"
    return "interpolation"
