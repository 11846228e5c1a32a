"""Tests for experiments.statistics: hand-computed cases for every public function."""

import math

import numpy as np
import pytest

from exgen.experiments.statistics import (
    CensoredValue,
    Interval,
    censored_summary,
    generalization_gap,
    iqm,
    label_pair,
    mean_score_ci,
    stratified_bootstrap_ci,
    success_rate_ci,
    wilson_interval,
)

# --------------------------------------------------------------------------- iqm


def test_iqm_of_one_to_eight_is_mean_of_middle_four():
    # n=8: drop 2 from each end, keep 3, 4, 5, 6.
    assert iqm([8, 1, 7, 2, 6, 3, 5, 4]) == 4.5


def test_iqm_trims_floor_quarter_with_n10_and_n7():
    # n=10: floor(2.5)=2 dropped from each end; keep 1..6.
    assert iqm([1000, 0, 5, 100, 1, 6, 0, 2, 4, 3]) == 3.5
    # n=7: floor(1.75)=1 dropped from each end; keep 1, 2, 3, 4, 10.
    assert iqm([999, 3, -50, 10, 1, 4, 2]) == 4.0


def test_iqm_small_samples_and_empty():
    assert iqm([1, 2, 9]) == 4.0  # n=3: nothing trimmed
    assert iqm([0, 1, 2, 100]) == 1.5  # n=4: one trimmed from each end
    assert iqm([7.0]) == 7.0
    with pytest.raises(ValueError, match="empty"):
        iqm([])


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_two_values_hand_computed():
    # Resample means of [0, 1] are 0, 0.5, 1 with probability 1/4, 1/2, 1/4.
    wide = stratified_bootstrap_ci({"c": [0.0, 1.0]}, n_resamples=4000)
    assert (wide.point, wide.low, wide.high) == (0.5, 0.0, 1.0)
    # The 30th and 70th percentiles both fall on 0.5.
    narrow = stratified_bootstrap_ci({"c": [0.0, 1.0]}, n_resamples=4000, confidence=0.4)
    assert (narrow.low, narrow.high) == (0.5, 0.5)


def test_bootstrap_resamples_within_strata():
    # Every resample keeps three values of stratum "a" and one of "b": the mean is always 1/4.
    ci = stratified_bootstrap_ci({"a": [0.0, 0.0, 0.0], "b": [1.0]})
    assert (ci.point, ci.low, ci.high) == (0.25, 0.25, 0.25)


def test_bootstrap_contains_point_and_narrows_with_more_seeds():
    rng = np.random.default_rng(1)
    few = stratified_bootstrap_ci({"c": rng.normal(0.5, 0.2, size=5)})
    many = stratified_bootstrap_ci({"c": rng.normal(0.5, 0.2, size=80)})
    for ci in (few, many):
        assert ci.low <= ci.point <= ci.high
    assert many.high - many.low < (few.high - few.low) / 2


def test_bootstrap_is_deterministic_for_a_seed():
    scores = {"a": [0.1, 0.4, 0.9, 0.3], "b": [0.7, 0.2, 0.5]}
    assert stratified_bootstrap_ci(scores, seed=3) == stratified_bootstrap_ci(scores, seed=3)
    assert stratified_bootstrap_ci(scores, seed=3) != stratified_bootstrap_ci(scores, seed=4)


def test_bootstrap_accepts_another_statistic():
    scores = {"a": [0, 1, 2, 3, 4, 5, 6, 7], "b": [100.0]}
    ci = stratified_bootstrap_ci(scores, statistic=iqm, n_resamples=200)
    assert ci.point == iqm([0, 1, 2, 3, 4, 5, 6, 7, 100])
    assert ci.low <= ci.point <= ci.high


def test_bootstrap_constant_data_gives_exactly_the_constant():
    for constant in (0.0, 1.0, 0.5, 0.25, -3.0, 7.0):
        for sizes in ((1,), (3,), (2, 5), (1, 1, 4)):
            scores = {f"s{i}": [constant] * n for i, n in enumerate(sizes)}
            ci = stratified_bootstrap_ci(scores, n_resamples=50, seed=len(sizes))
            assert (ci.point, ci.low, ci.high) == (constant, constant, constant)
    for constant in (0.1, 1 / 3, 123.456):  # not exactly summable: still a zero-width interval
        ci = stratified_bootstrap_ci({"c": [constant] * 7}, n_resamples=50)
        assert ci.low == ci.high == ci.point == pytest.approx(constant)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"scores": {}}, "scores"),
        ({"scores": {"a": [1.0], "b": []}}, "scores"),
        ({"scores": {"a": [1.0, math.inf]}}, "scores"),
        ({"scores": {"a": [1.0]}, "confidence": 1.0}, "confidence"),
        ({"scores": {"a": [1.0]}, "confidence": 0.0}, "confidence"),
        ({"scores": {"a": [1.0]}, "n_resamples": 0}, "n_resamples"),
    ],
)
def test_bootstrap_validation_names_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        stratified_bootstrap_ci(**kwargs)


def test_interval_str():
    assert str(Interval(point=0.85, low=0.7, high=0.95)) == "0.85 [0.70, 0.95]"


# --------------------------------------------------------------------------- success rates


def test_success_rate_ci_averages_per_seed_rates():
    successes = {1: [True, True, False, False], 2: [True] * 4, 3: [False, False, False, True]}
    ci = success_rate_ci(successes, n_resamples=500)
    assert ci.point == pytest.approx((0.5 + 1.0 + 0.25) / 3)
    # Three seeds of four episodes each say little: wider than the seeds' own range.
    assert 0.0 <= ci.low < 0.25 and 0.9 < ci.high <= 1.0
    assert ci.method == "95% interval over seeds and instances (two-level bootstrap)"


def test_success_rate_ci_weights_seeds_not_episodes():
    # Pooling episodes would give 1/10; each seed counts once: (1 + 0) / 2.
    ci = success_rate_ci({"a": [True], "b": [False] * 9}, n_resamples=500)
    assert ci.point == 0.5
    assert ci.low < 0.01 and ci.high > 0.99


def test_success_rate_ci_validation():
    with pytest.raises(ValueError, match="no episodes"):
        success_rate_ci({"a": [True], "b": []})
    with pytest.raises(ValueError, match="True/False"):
        success_rate_ci({"a": [0.5]})


def test_one_seed_gives_the_wilson_interval_over_instances():
    ci = success_rate_ci({"only": [True] * 10 + [False] * 10})
    assert ci == wilson_interval(10, 20)
    assert (ci.point, ci.low, ci.high) == pytest.approx((0.5, 0.2993, 0.7007), abs=1e-4)
    assert ci.method == "95% Wilson interval over instances, 1 seed"


def test_all_successes_never_give_a_zero_width_interval():
    wilson = 20 / (20 + 1.959964**2)  # Wilson's lower bound for 20 of 20: 0.8389
    assert wilson_interval(20, 20).low == pytest.approx(wilson, abs=1e-6)
    for seeds in (1, 2, 5):
        for shared in (False, True):
            ci = success_rate_ci({s: [True] * 20 for s in range(seeds)}, shared_instances=shared)
            assert ci.point == ci.high == 1.0
            assert ci.low < 0.97, (seeds, shared, ci)
    # Five seeds that share their 20 instances have seen 20 instances, not 100.
    shared = success_rate_ci({s: [True] * 20 for s in range(5)}, shared_instances=True)
    assert shared.low == pytest.approx(wilson, abs=1e-6)


def test_shared_instances_count_instance_sampling_once():
    # Every seed succeeds on the same 15 of 20 instances: the seeds agree, but the 20
    # instances are still a sample, so the interval stays about as wide as one seed's.
    pattern = [True] * 15 + [False] * 5
    shared = success_rate_ci({s: pattern for s in range(5)}, shared_instances=True)
    one = success_rate_ci({0: pattern})
    assert shared.point == 0.75
    assert shared.high - shared.low >= 0.9 * (one.high - one.low)
    with pytest.raises(ValueError, match="same number of episodes"):
        success_rate_ci({0: [True] * 3, 1: [True] * 4}, shared_instances=True)


def test_student_t_and_normal_quantiles():
    from exgen.experiments.statistics import _t, _z

    assert _z(0.95) == pytest.approx(1.959964, abs=1e-6)
    for df, t in ((1, 12.7062), (2, 4.3027), (3, 3.1824), (4, 2.7764), (30, 2.0423)):
        assert _t(df, 0.95) == pytest.approx(t, abs=1e-4)
    assert _t(9, 0.99) == pytest.approx(3.2498, abs=1e-4)


def _true_mean_rate(p: float, sigma: float) -> float:
    """The estimand: the mean over the population of seeds of p_s = expit(logit(p) + sigma Z),
    Z standard normal (Gauss-Hermite quadrature, 80 nodes)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    logit = math.log(p / (1 - p))
    return float(np.sum(weights / weights.sum() / (1 + np.exp(-(logit + sigma * nodes)))))


def _coverage(p: float, sigma: float, shared: bool, datasets: int, resamples: int,
              seeds: int = 5, instances: int = 20) -> float:
    """Fraction of simulated experiments whose 95% interval holds the true mean rate: seed
    s succeeds with p_s = expit(logit(p) + sigma z_s) on each of its episodes."""
    rng = np.random.default_rng(1234)
    truth = _true_mean_rate(p, sigma)
    logit = math.log(p / (1 - p))
    hits = 0
    for index in range(datasets):
        rate = 1 / (1 + np.exp(-(logit + sigma * rng.standard_normal(seeds))))
        episodes = rng.random((seeds, instances)) < rate[:, None]
        ci = success_rate_ci(dict(enumerate(episodes)), n_resamples=resamples, seed=index,
                             shared_instances=shared)
        hits += ci.low <= truth <= ci.high
    return hits / datasets


CELLS = [(p, sigma) for p in (0.5, 0.9, 0.98) for sigma in (0.5, 1.5)]


@pytest.mark.parametrize(("p", "sigma"), CELLS)
def test_intervals_cover_the_mean_rate_over_seeds(p, sigma):
    # 5 seeds x 20 instances; nominal 95%, at least 90% demanded in every cell.
    assert _coverage(p, sigma, shared=False, datasets=300, resamples=400) >= 0.90


@pytest.mark.parametrize(("p", "sigma"), [(0.5, 1.5), (0.98, 1.5)])
def test_shared_instance_intervals_cover_too(p, sigma):
    assert _coverage(p, sigma, shared=True, datasets=200, resamples=400) >= 0.90


@pytest.mark.slow
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize(("p", "sigma"), CELLS)
def test_intervals_cover_with_many_simulations(p, sigma, shared):
    assert _coverage(p, sigma, shared=shared, datasets=2000, resamples=2000) >= 0.92


def test_the_true_mean_rate_is_pulled_from_p_by_the_seed_spread():
    assert _true_mean_rate(0.5, 1.5) == pytest.approx(0.5)
    assert _true_mean_rate(0.98, 0.0) == pytest.approx(0.98)
    assert 0.94 < _true_mean_rate(0.98, 1.5) < 0.96  # rare bad seeds pull the mean down


# --------------------------------------------------------------------------- mean scores


def test_mean_score_ci_averages_per_seed_means():
    ci = mean_score_ci({1: [1.0, 0.7, 0.26], 2: [0.8, 1.0, 0.5], 3: [0.5]})
    assert ci.point == pytest.approx(((1.0 + 0.7 + 0.26) / 3 + (0.8 + 1.0 + 0.5) / 3 + 0.5) / 3)
    assert 0.0 <= ci.low < ci.point < ci.high <= 1.0
    assert ci.method == "95% interval over seeds and instances (two-level bootstrap of the mean)"
    assert mean_score_ci({1: [0.2, 0.4], 2: [0.6, 0.8]}, seed=3) == mean_score_ci(
        {1: [0.2, 0.4], 2: [0.6, 0.8]}, seed=3)


def test_on_scores_of_0_and_1_the_interval_is_a_success_rate_s():
    one = {"only": [1.0] * 10 + [0.0] * 10}
    assert (mean_score_ci(one).low, mean_score_ci(one).high) == (
        success_rate_ci(one).low, success_rate_ci(one).high)
    assert mean_score_ci(one).method == ("95% Wilson interval at the mean score over "
                                         "instances, 1 seed")
    pattern = [1.0] * 15 + [0.0] * 5
    five = {s: pattern for s in range(5)}
    scored, rate = (f(five, shared_instances=True) for f in (mean_score_ci, success_rate_ci))
    assert (scored.point, scored.low, scored.high) == pytest.approx(
        (rate.point, rate.low, rate.high), abs=0.02)


def test_even_perfect_scores_never_give_a_zero_width_interval():
    for seeds in (1, 3):
        for shared in (False, True):
            ci = mean_score_ci({s: [1.0] * 20 for s in range(seeds)}, shared_instances=shared)
            assert ci.point == ci.high == 1.0 and ci.low < 0.97
    # Scores that never vary still get the Wilson interval over the instances at their
    # mean: 0.7 on 20 shared instances is 14 of 20.
    steady = mean_score_ci({s: [0.7] * 20 for s in range(3)}, shared_instances=True)
    wilson = wilson_interval(14, 20)
    assert (steady.low, steady.high) == pytest.approx((wilson.low, wilson.high))


def test_mean_score_ci_resamples_the_instances_of_each_seed_when_not_shared():
    ci = mean_score_ci({1: [0.2, 0.9, 0.4], 2: [0.6, 0.7, 0.5, 0.8]})
    assert ci.point == pytest.approx((0.5 + 0.65) / 2) and ci.low < ci.point < ci.high
    with pytest.raises(ValueError, match="same number of episodes"):
        mean_score_ci({1: [0.2], 2: [0.6, 0.7]}, shared_instances=True)


@pytest.mark.parametrize("scores", [{}, {1: []}, {1: [0.5, 1.2]}, {1: [-0.1]},
                                    {1: [float("nan")]}])
def test_mean_score_ci_validation(scores):
    with pytest.raises(ValueError, match="scores_by_seed"):
        mean_score_ci(scores)


def test_mean_score_intervals_cover_the_mean_driving_score():
    # Seeds arrive with their own rate on 20 shared instances; an arrival scores 0.7 per
    # red light, any other end its route completion times 0.65.
    rng = np.random.default_rng(7)

    def scores(rate, u):
        return np.where(u < rate, 0.7 ** rng.poisson(0.3, u.size),
                        0.65 * rng.uniform(0.0, 1.0, u.size))

    truth = np.mean([scores(r, rng.random(1)).item() for r in rng.uniform(0.4, 0.9, 100_000)])
    hits = 0
    for index in range(150):
        u = rng.random(20)
        ci = mean_score_ci({s: scores(rng.uniform(0.4, 0.9), u) for s in range(5)},
                           n_resamples=400, seed=index, shared_instances=True)
        hits += ci.low <= truth <= ci.high
    assert hits / 150 >= 0.90


# --------------------------------------------------------------------------- censored


def test_censored_summary_nothing_censored():
    s = censored_summary([2100, 1000, 1641, 3000, 1200], budget=5000)
    assert s.met_fraction == 1.0
    assert s.median == CensoredValue(1641.0, censored=False)
    assert s.quartiles == (CensoredValue(1200.0, False), CensoredValue(2100.0, False))
    assert str(s) == "1,641 (IQR 1,200-2,100), 5/5 seeds met"


def test_censored_summary_matches_numpy_without_censoring():
    values = np.random.default_rng(0).uniform(0, 100, size=6)
    s = censored_summary(list(values), budget=100)
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    assert s.median.value == pytest.approx(med)
    assert (s.quartiles[0].value, s.quartiles[1].value) == pytest.approx((q1, q3))


def test_censored_summary_some_censored_median_met():
    # Sorted as [100, 200, 300, +inf]: median at position 1.5 = 250; Q1 at 0.75 = 175;
    # Q3 at 2.25 lies between 300 and a value > 5000, so it exceeds 300 + 0.25 * 4700.
    s = censored_summary([300, None, 100, 200], budget=5000)
    assert s.met_fraction == 0.75
    assert s.median == CensoredValue(250.0, False)
    assert s.quartiles == (CensoredValue(175.0, False), CensoredValue(1475.0, True))
    assert str(s) == "250 (IQR 175 to >1,475), 3/4 seeds met"


def test_censored_summary_some_censored_median_censored():
    # Sorted as [1000, +inf, +inf]: the median is censored; Q1 at 0.5 exceeds (1000 + 5000) / 2.
    s = censored_summary([None, 1000, None], budget=5000)
    assert s.met_fraction == pytest.approx(1 / 3)
    assert s.median == CensoredValue(5000.0, True)
    assert s.quartiles == (CensoredValue(3000.0, True), CensoredValue(5000.0, True))
    assert str(s) == ">5,000 (IQR >3,000 to >5,000), 1/3 seeds met"


def test_censored_summary_all_censored():
    s = censored_summary([None, None, None], budget=5000)
    assert s.met_fraction == 0.0
    assert s.median == s.quartiles[0] == s.quartiles[1] == CensoredValue(5000.0, True)
    assert str(s) == ">5,000 (IQR >5,000 to >5,000), 0/3 seeds met"


def test_censored_summary_censors_each_seed_at_its_own_budget():
    # Seed 1 met the criterion after 5865 episodes; seeds 2 and 3 trained for 4686 and
    # 4133 episodes (the same steps, longer episodes) and never met it.
    s = censored_summary([5865, None, None], budget=[5865, 4686, 4133])
    # The median is the middle of 5865, >4686 and >4133: more than 4686, not 5865.
    assert s.median == CensoredValue(4686.0, True)
    assert s.quartiles == (CensoredValue(4409.5, True), CensoredValue(5275.5, True))
    assert str(s) == ">4,686 (IQR >4,409 to >5,275), 1/3 seeds met"
    assert s.budget == 5865


def test_a_censored_value_prints_without_trailing_zeros():
    assert str(CensoredValue(1.25, False)) == "1.25"
    assert str(CensoredValue(4409.5, True)) == ">4,409"
    assert str(CensoredValue(29998.5, False)) == "29,998"
    assert str(CensoredValue(12.5, False)) == "12.5"
    assert str(CensoredValue(2.999, True, strict=False)) == "≥3"
    assert str(CensoredValue(12.0, False)) == "12"


def test_a_seed_censored_below_a_met_value_leaves_it_a_bound_only():
    # 10 and 20 met; the third never met within 5 episodes: it may lie below 10 or above.
    s = censored_summary([10, None, 20], budget=[30, 5, 30])
    assert s.median == CensoredValue(10.0, True, strict=False)
    assert str(s.median) == "≥10"
    assert s.quartiles[0] == CensoredValue(7.5, True, strict=True)  # between >5 and >=10
    # Censored above every met value, the seed changes nothing below it.
    assert censored_summary([10, None, 20], budget=[30, 25, 30]).median == CensoredValue(
        20.0, False)


def test_censored_summary_validation():
    with pytest.raises(ValueError, match="empty"):
        censored_summary([], budget=10)
    with pytest.raises(ValueError, match="budget"):
        censored_summary([1, 2], budget=math.inf)
    with pytest.raises(ValueError, match="budget"):
        censored_summary([1, 20], budget=10)  # met beyond the budget is a contradiction
    with pytest.raises(ValueError, match="one per seed"):
        censored_summary([1, None], budget=[10])


# --------------------------------------------------------------------------- generalization gap


def test_generalization_gap_sign():
    train = {"a": [True, True], "b": [True, False]}  # rates 1.0, 0.5
    test = {"b": [True, False], "a": [False, False]}  # rates 0.5, 0.0 (keys in another order)
    gap = generalization_gap(train, test, n_resamples=500)
    assert gap.point == 0.5  # mean of 1.0 and 0.0
    assert -1.0 <= gap.low < 0.0 < 0.5 < gap.high <= 1.0  # two seeds of two episodes
    assert generalization_gap(test, train, n_resamples=500).point == -0.5


def test_generalization_gap_missing_seeds():
    with pytest.raises(
        ValueError, match=r"test_success_by_seed: \['b'\].*train_success_by_seed: \['c'\]"
    ):
        generalization_gap({"a": [True], "b": [True]}, {"a": [True], "c": [False]})


def test_generalization_gap_with_all_successes_is_not_a_point():
    one = generalization_gap({"a": [True] * 20}, {"a": [True] * 20})
    assert one.point == 0.0 and one.low < -0.1 and one.high > 0.1
    assert one.method == "95% interval over instances, 1 seed (Wilson per side)"
    five = generalization_gap({s: [True] * 20 for s in range(5)},
                              {s: [True] * 20 for s in range(5)}, test_shared_instances=True)
    assert five.point == 0.0 and five.low < 0.0 < five.high


def test_generalization_gap_gains_from_pairing_by_seed():
    # Each seed's test rate is its train rate less 0.1: the pairs move together.
    train_rates = [0.9, 0.5, 0.7, 0.3, 0.8]

    def episodes(rate: float) -> list[bool]:
        return [True] * round(20 * rate) + [False] * (20 - round(20 * rate))

    train = {s: episodes(r) for s, r in enumerate(train_rates)}
    paired = {s: episodes(r - 0.1) for s, r in enumerate(train_rates)}
    shuffled = {s: episodes(train_rates[(s + 2) % 5] - 0.1) for s in range(5)}
    a, b = generalization_gap(train, paired), generalization_gap(train, shuffled)
    assert a.point == pytest.approx(0.1) and b.point == pytest.approx(0.1)
    assert a.low < 0.1 < a.high
    assert a.high - a.low < 0.7 * (b.high - b.low)
    assert "paired by seed" in a.method


# --------------------------------------------------------------------------- labels


def test_label_pair_numeric_hull():
    train = [{"gravity": -12.0}, {"gravity": -8.0}]
    assert label_pair(train, {"gravity": -10.0}) == "interpolation"
    assert label_pair(train, {"gravity": -12.0}) == "interpolation"  # the ends are inside
    assert label_pair(train, {"gravity": -13.0}) == "extrapolation"


def test_label_pair_training_ranges():
    train = [{"gravity": [-12.0, -9.0]}, {"gravity": -5}]  # hull [-12, -5]
    assert label_pair(train, {"gravity": -6.0}) == "interpolation"
    assert label_pair(train, {"gravity": -4.0}) == "extrapolation"


def test_label_pair_test_range():
    train = [{"gravity": (-12.0, -8.0)}]
    assert label_pair(train, {"gravity": (-11.0, -9.0)}) == "interpolation"
    assert label_pair(train, {"gravity": (-13.0, -9.0)}) == "extrapolation"


def test_label_pair_non_numeric_fields():
    train = [{"driving_side": "right", "map": None, "dense": True}]
    same = {"driving_side": "right", "map": None, "dense": True}
    assert label_pair(train, same) == "interpolation"
    assert label_pair(train, {**same, "driving_side": "left"}) == "extrapolation"
    assert label_pair(train, {**same, "map": "city_2"}) == "extrapolation"
    assert label_pair([{"dense": 1}], {"dense": True}) == "extrapolation"  # True is not 1
    assert label_pair([{"gravity": "low"}], {"gravity": -10.0}) == "extrapolation"


def test_label_pair_categorical_fields_are_members_not_hulls():
    one_city = [{"map_seed": 10_000}]
    twenty = [{"map_seed": tuple(range(10_000, 10_020))}]
    assert label_pair(one_city, {"map_seed": 10_000}, categorical={"map_seed"}) == \
        "interpolation"
    assert label_pair(twenty, {"map_seed": 10_007}, categorical={"map_seed"}) == \
        "interpolation"
    # Between two training seeds, or next to one, is still a new city.
    assert label_pair([{"map_seed": (10_000, 10_002)}], {"map_seed": 10_001},
                      categorical={"map_seed"}) == "extrapolation"
    assert label_pair(twenty, {"map_seed": 1_000_123}, categorical={"map_seed"}) == \
        "extrapolation"
    # Without the hint a 2-list is read as a range, as for gravity.
    assert label_pair([{"map_seed": (10_000, 10_002)}], {"map_seed": 10_001}) == \
        "interpolation"


def test_label_pair_defaults():
    train = [{"gravity": -10.0}]
    assert label_pair(train, {"gravity": -10.0, "wind": 0.0}, {"wind": 0.0}) == "interpolation"
    assert label_pair(train, {"gravity": -10.0, "wind": 5.0}, {"wind": 0.0}) == "extrapolation"
    assert label_pair(train, {"gravity": -10.0, "wind": 0.0}) == "extrapolation"  # no default
    # A training context that omits a field trained at its default value.
    assert label_pair([{"wind": 5.0}, {}], {"wind": 2.5}, {"wind": 0.0}) == "interpolation"
    # A test context that omits a field is judged at its default value.
    assert label_pair([{"gravity": -5.0}], {}, {"gravity": -10.0}) == "extrapolation"
    assert label_pair([{"gravity": -5.0}], {}, {"gravity": -5.0}) == "interpolation"


def test_label_pair_validation():
    with pytest.raises(ValueError, match="training_contexts"):
        label_pair([], {"gravity": -10.0})
    with pytest.raises(ValueError, match="range"):
        label_pair([{"gravity": (-8.0, -12.0)}], {"gravity": -10.0})
