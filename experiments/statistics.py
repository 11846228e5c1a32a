"""Statistics for reports: IQM, intervals of success rates, censored summaries, labels.

Everything here takes plain numbers (per-seed scores, per-episode successes, episodes to
criterion) and returns small frozen dataclasses whose ``str`` is ready for a report. Uses
numpy only. Vocabulary as in docs/protocol.md: a *seed* is one independent run of an agent; a
*success* is the env's ``info["is_success"]`` at episode end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
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
    "mean_score_ci",
    "stratified_bootstrap_ci",
    "success_rate_ci",
    "wilson_interval",
]


def _fmt(x: float) -> str:
    """A number for a report: from 1,000 on a whole number with thousands separators,
    rounded down (29,998 for 29,998.5, so a lower bound stays one); below it, integers
    without a decimal point and others to at most 2 decimals with no trailing zero
    (4, 1.25)."""
    if abs(x) >= 1000:
        return f"{math.floor(x):,}"
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
    """A statistic on the original data (``point``) with an interval [low, high];
    ``method`` says what the interval is ("95% interval over seeds and instances
    (two-level bootstrap)"), for the report's labels."""

    point: float
    low: float
    high: float
    method: str = ""

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

    It covers only the variation of the values given: over a handful of per-seed rates it
    is far too narrow (see ``success_rate_ci`` for success rates).

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
    return Interval(point=point, low=float(low), high=float(high),
                    method=f"{_percent(confidence)} percentile bootstrap interval")


# --------------------------------------------------------------------------- success intervals
#
# A success rate here is the mean over seeds of each seed's rate over its held-out instances.
# Its interval has to cover two sources of chance: which seeds were run (seed-to-seed
# spread) and which instances were drawn (every seed of an experiment plays the same ones).
# With few seeds a percentile bootstrap over seeds is far too narrow (with 3 seeds it is
# the lowest and highest seed), and at a rate of 1 it has zero width. So:
#
# - one seed: the Wilson score interval over its instances; no interval over seeds exists;
# - two or more seeds: the variance of the rate from a two-level bootstrap (resample the
#   seeds, then the instances: within each drawn seed, or once for all seeds when they
#   share their instances), turned into an interval as Korn and Graubard (1998) do for
#   clustered proportions: a Wilson interval at the effective sample size
#   p(1 - p) / variance, shrunk by (z / t)^2 for the k - 1 degrees of freedom that k seeds
#   give and capped at the number of independent instances. The cap keeps an all-success
#   record from reading as certain (20 of 20 on shared instances gives [0.84, 1]); the
#   t factor widens the interval for few seeds. A coverage test simulates it.


@cache
def _z(confidence: float) -> float:
    """The two-sided standard normal quantile: P(|Z| < z) = confidence."""
    return _bisect(lambda z: math.erf(z / math.sqrt(2.0)), confidence)


@cache
def _t(df: int, confidence: float) -> float:
    """The two-sided Student t quantile with ``df`` degrees of freedom: P(|T| < t) =
    confidence, from the closed form of P(|T| < t) for integer ``df`` (Abramowitz and
    Stegun 26.7.3-4)."""

    def inside(t: float) -> float:
        theta = math.atan(t / math.sqrt(df))
        c2, total, term = math.cos(theta) ** 2, 0.0, 1.0
        if df % 2 == 0:  # sin(theta) * (1 + c^2/2 + 1*3/(2*4) c^4 + ...), df/2 terms
            for j in range(2, df + 1, 2):
                total += term
                term *= (j - 1) / j * c2
            return math.sin(theta) * total
        term = math.cos(theta)  # 2/pi * (theta + sin(theta) * (c + 2/3 c^3 + ...))
        for j in range(3, df + 1, 2):
            total += term
            term *= (j - 1) / j * c2
        return 2.0 / math.pi * (theta + math.sin(theta) * total)

    return _bisect(inside, confidence)


def _bisect(increasing: Callable[[float], float], target: float) -> float:
    """The x >= 0 where ``increasing(x)`` reaches ``target`` (which lies in (0, 1))."""
    low, high = 0.0, 1.0
    while increasing(high) < target:
        high *= 2.0
    for _ in range(100):
        mid = (low + high) / 2.0
        low, high = (mid, high) if increasing(mid) < target else (low, mid)
    return (low + high) / 2.0


def _wilson(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score bounds of a proportion ``p`` observed over ``n`` (possibly effective,
    non-integer) trials."""
    shrink = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / shrink
    half = z / shrink * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    # Exactly 0 or 1 at an observed 0 or 1 (the formula's bound, free of rounding).
    return (0.0 if p <= 0.0 else max(0.0, centre - half),
            1.0 if p >= 1.0 else min(1.0, centre + half))


def _check_confidence(confidence: float, n_resamples: int) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples!r}")


def _percent(confidence: float) -> str:
    return f"{100 * confidence:g}%"


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval of ``successes`` out of ``n`` independent trials (a rate in
    [0, 1]); never zero-width, 20 of 20 gives [0.84, 1] at 95%."""
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"wilson_interval: need 0 <= successes <= n and n >= 1, "
                         f"got {successes!r} of {n!r}")
    _check_confidence(confidence, 1)
    low, high = _wilson(successes / n, n, _z(confidence))
    return Interval(successes / n, low, high, f"{_percent(confidence)} Wilson interval "
                                              "over instances, 1 seed")


def _episodes(successes_by_seed: Mapping[Hashable, Sequence[bool]],
              name: str) -> list[np.ndarray]:
    """Each seed's episodes as 0/1 floats, in key order, checked."""
    if not successes_by_seed:
        raise ValueError(f"{name}: no seeds given")
    seeds = []
    for key, episodes in successes_by_seed.items():
        x = np.asarray(episodes, dtype=float).ravel()
        if x.size == 0:
            raise ValueError(f"{name}: seed {key!r} has no episodes")
        if not np.all((x == 0.0) | (x == 1.0)):
            raise ValueError(f"{name}: seed {key!r} has values other than True/False")
        seeds.append(x)
    return seeds


def _success_rates(successes_by_seed: Mapping[Hashable, Sequence[bool]], name: str) -> np.ndarray:
    """Per-seed success rate (fraction of that seed's episodes that succeeded), in key order."""
    return np.array([x.mean() for x in _episodes(successes_by_seed, name)])


@dataclass(frozen=True)
class _Rate:
    """A success rate over seeds, its two-level bootstrap resamples and its cap on the
    effective sample size (the number of independent instances)."""

    point: float
    boot: np.ndarray
    cap: int


def _two_level(seeds: list[np.ndarray], counts: np.ndarray, shared: bool,
               rng: np.random.Generator, name: str, binary: bool = True) -> _Rate:
    """The mean over seeds of per-seed rates, and its bootstrap: ``counts[b, s]`` copies
    of seed s in resample b; then instances, resampled once for all seeds when ``shared``
    (episode i of every seed is instance i), else within each copy of a seed. ``binary``
    when every value is 0 or 1 (successes); else the values are scores in [0, 1]."""
    k = len(seeds)
    sizes = np.array([x.size for x in seeds])
    rates = np.array([x.mean() for x in seeds])
    if shared:
        if np.any(sizes != sizes[0]):
            raise ValueError(f"{name}: seeds that share their instances need the same "
                             f"number of episodes, got {sizes.tolist()}")
        n = int(sizes[0])
        drawn = rng.multinomial(n, np.full(n, 1.0 / n), size=counts.shape[0])
        boot = np.einsum("bk,kn,bn->b", counts, np.vstack(seeds), drawn) / (k * n)
        return _Rate(float(rates.mean()), boot, n)
    if binary:
        # Resampling a seed's n episodes with replacement draws Binomial(n, rate)
        # successes; c copies of it draw Binomial(c * n, rate) in all.
        boot = (rng.binomial(counts * sizes, rates) / sizes).sum(axis=1) / k
    else:  # c copies of a seed draw c * n of its episodes with replacement
        boot = sum(rng.multinomial(counts[:, s] * x.size, np.full(x.size, 1.0 / x.size)) @ x
                   / x.size for s, x in enumerate(seeds)) / k
    return _Rate(float(rates.mean()), boot, int(sizes.sum()))


def _seed_counts(k: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of ``k`` seeds is drawn in each resample (rows sum to k)."""
    return rng.multinomial(k, np.full(k, 1.0 / k), size=n_resamples)


def _rate_bounds(rate: _Rate, k: int, confidence: float) -> tuple[float, float]:
    """Wilson bounds at the effective sample size p(1 - p) / variance * (z / t_{k-1})^2,
    capped at the number of independent instances (Korn and Graubard 1998)."""
    z = _z(confidence)
    p, variance = rate.point, float(rate.boot.var())
    n_eff = float(rate.cap)
    if variance > 0.0 and 0.0 < p < 1.0:
        n_eff = min(n_eff, p * (1.0 - p) / variance * (z / _t(k - 1, confidence)) ** 2)
    return _wilson(p, n_eff, z)


def success_rate_ci(
    successes_by_seed: Mapping[str | int, Sequence[bool]],
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    shared_instances: bool = False,
) -> Interval:
    """Mean over seeds of each seed's success rate, with an interval over seeds and instances.

    One seed: the Wilson interval over its instances. Two or more: the two-level bootstrap
    interval described above (seeds, then instances; ``shared_instances`` when episode i
    of every seed played the same instance i). Seeds count equally, not episodes.
    """
    seeds = _episodes(successes_by_seed, "successes_by_seed")
    _check_confidence(confidence, n_resamples)
    if len(seeds) == 1:
        x = seeds[0]
        return wilson_interval(int(x.sum()), x.size, confidence)
    rng = np.random.default_rng(seed)
    rate = _two_level(seeds, _seed_counts(len(seeds), n_resamples, rng), shared_instances,
                      rng, "successes_by_seed")
    low, high = _rate_bounds(rate, len(seeds), confidence)
    return Interval(rate.point, low, high, f"{_percent(confidence)} interval over seeds and "
                                           "instances (two-level bootstrap)")


def mean_score_ci(
    scores_by_seed: Mapping[Hashable, Sequence[float]],
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    shared_instances: bool = False,
) -> Interval:
    """Mean over seeds of each seed's mean score in [0, 1] (a driving score), with an
    interval over seeds and instances, made as ``success_rate_ci`` makes a success rate's.

    Two or more seeds: the two-level bootstrap of the mean (seeds, then instances, shared
    when ``shared_instances``) gives its variance, turned into a Wilson interval at the
    effective sample size p(1 - p) / variance * (z / t_{k-1})^2, capped at the number of
    independent instances. One seed: the Wilson interval at the mean over its instances. A
    score in [0, 1] with mean p varies at most as much as a success with rate p (p(1 - p)),
    so the interval is never narrower than the Wilson interval at p over the instances,
    even where the scores do not vary; on scores of 0 and 1 it is ``success_rate_ci``'s
    (up to the bootstrap's draws).
    Seeds count equally, not episodes.
    """
    if not scores_by_seed:
        raise ValueError("scores_by_seed: no seeds given")
    seeds = []
    for key, scores in scores_by_seed.items():
        x = np.asarray(scores, dtype=float).ravel()
        if x.size == 0:
            raise ValueError(f"scores_by_seed: seed {key!r} has no episodes")
        if not np.all((x >= 0.0) & (x <= 1.0)):  # NaN fails too
            raise ValueError(f"scores_by_seed: seed {key!r} has scores outside [0, 1]")
        seeds.append(x)
    _check_confidence(confidence, n_resamples)
    if len(seeds) == 1:
        x = seeds[0]
        low, high = _wilson(float(x.mean()), x.size, _z(confidence))
        return Interval(float(x.mean()), low, high, f"{_percent(confidence)} Wilson interval "
                                                    "at the mean score over instances, 1 seed")
    rng = np.random.default_rng(seed)
    rate = _two_level(seeds, _seed_counts(len(seeds), n_resamples, rng), shared_instances,
                      rng, "scores_by_seed", binary=False)
    low, high = _rate_bounds(rate, len(seeds), confidence)
    return Interval(rate.point, low, high, f"{_percent(confidence)} interval over seeds and "
                                           "instances (two-level bootstrap of the mean)")


def generalization_gap(
    train_success_by_seed: Mapping[str | int, Sequence[bool]],
    test_success_by_seed: Mapping[str | int, Sequence[bool]],
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    train_shared_instances: bool = False,
    test_shared_instances: bool = False,
) -> Interval:
    """Train success rate minus test success rate, paired by seed; in [-1, 1], positive
    means the agent does worse on the test contexts.

    Each rate gets its interval as in ``success_rate_ci``; the difference's interval joins
    them by MOVER (Newcombe's hybrid score interval, Zou and Donner 2008) with the
    correlation of the two rates over a bootstrap that draws the same seeds for both sides.
    One seed: Wilson intervals per side, uncorrelated.
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
    train = _episodes({k: train_success_by_seed[k] for k in keys}, "train_success_by_seed")
    test = _episodes({k: test_success_by_seed[k] for k in keys}, "test_success_by_seed")
    _check_confidence(confidence, n_resamples)
    k = len(keys)
    if k == 1:
        sides = [wilson_interval(int(x[0].sum()), x[0].size, confidence) for x in (train, test)]
        bounds = [(s.low, s.high) for s in sides]
        points, correlation = [s.point for s in sides], 0.0
        method = f"{_percent(confidence)} interval over instances, 1 seed (Wilson per side)"
    else:
        rng = np.random.default_rng(seed)
        counts = _seed_counts(k, n_resamples, rng)  # the same seeds on both sides
        rates = [_two_level(train, counts, train_shared_instances, rng, "train_success_by_seed"),
                 _two_level(test, counts, test_shared_instances, rng, "test_success_by_seed")]
        bounds = [_rate_bounds(r, k, confidence) for r in rates]
        points = [r.point for r in rates]
        spread = rates[0].boot.std() * rates[1].boot.std()
        correlation = (float(np.mean((rates[0].boot - rates[0].boot.mean())
                                     * (rates[1].boot - rates[1].boot.mean())) / spread)
                       if spread > 0.0 else 0.0)
        method = (f"{_percent(confidence)} interval over seeds and instances (two-level "
                  "bootstrap, paired by seed)")
    (p1, p2), ((l1, u1), (l2, u2)) = points, bounds
    r = min(1.0, max(-1.0, correlation))
    below = math.sqrt(max(0.0, (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * r * (p1 - l1) * (u2 - p2)))
    above = math.sqrt(max(0.0, (u1 - p1) ** 2 + (p2 - l2) ** 2 - 2 * r * (u1 - p1) * (p2 - l2)))
    gap = p1 - p2
    return Interval(gap, max(-1.0, gap - below), min(1.0, gap + above), method)


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
