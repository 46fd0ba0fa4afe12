"""Reorder levels against quantiles computed here by another method (summing pmf terms), and the inputs' rules."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.config import Settings
from fleet.stock.reorder import (
    HISTORY_MIN_COMPONENT_YEARS,
    HISTORY_MIN_FAILURES,
    KindHistory,
    dispersion,
    failure_rate,
    lead_time_demand,
    negbin_cdf,
    order_quantity,
    poisson_cdf,
    reorder_level,
    service_target,
)

SETTINGS = Settings()
TARGETS = [0.5, 0.9, 0.95, 0.99, 0.999]


def poisson_cdf_by_pmf(k: int, lam: float) -> float:
    """sum_{i<=k} e^-lam lam^i / i!, term by term with factorials."""
    return math.fsum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(k + 1))


def poisson_quantile_by_pmf(lam: float, target: float) -> int:
    k = 0
    while poisson_cdf_by_pmf(k, lam) < target:
        k += 1
    return k


def negbin_quantile_by_pmf(mean: float, ratio: float, target: float) -> int:
    """Same for the negative binomial with variance = ratio x mean: C(k+r-1, k) p^r (1-p)^k summed in log space."""
    p = 1.0 / ratio
    r = mean / (ratio - 1.0)
    total, k = 0.0, 0
    while True:
        log_pmf = math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1) + r * math.log(p) + k * math.log(1 - p)
        total += math.exp(log_pmf)
        if total >= target - 1e-12:  # a CDF that lands exactly on the target (0.25 + 0.25 = 0.5) meets it
            return k
        k += 1


@settings(max_examples=300, deadline=None)
@given(lam=st.floats(min_value=0.0, max_value=60.0), target=st.sampled_from(TARGETS))
def test_poisson_level_is_the_quantile(lam, target):
    level, expected = reorder_level(lam, target), poisson_quantile_by_pmf(lam, target)
    # Two float methods may disagree only when the CDF sits on the target to rounding error.
    assert level == expected or abs(poisson_cdf_by_pmf(min(level, expected), lam) - target) < 1e-12


@settings(max_examples=200, deadline=None)
@given(
    mean=st.floats(min_value=0.01, max_value=40.0),
    ratio=st.floats(min_value=1.05, max_value=8.0),
    target=st.sampled_from(TARGETS),
)
def test_negative_binomial_level_is_the_quantile(mean, ratio, target):
    assert reorder_level(mean, target, dispersion=ratio) == negbin_quantile_by_pmf(mean, ratio, target)


def test_bursty_demand_needs_more_stock_at_high_targets():
    # Same mean, variance five times the mean: the 99 % quantile moves up (checked by the pmf sums above).
    assert negbin_quantile_by_pmf(4.0, 5.0, 0.99) > poisson_quantile_by_pmf(4.0, 0.99)
    assert reorder_level(4.0, 0.99, dispersion=5.0) == negbin_quantile_by_pmf(4.0, 5.0, 0.99)


def test_large_demand_stays_accurate_where_exp_minus_lambda_underflows():
    lam = 900.0  # exp(-900) is 0.0 in floating point: the naive sum would say P = 0
    for k in (850, 900, 960):
        by_logs = math.fsum(math.exp(-lam + i * math.log(lam) - math.lgamma(i + 1)) for i in range(k + 1))
        assert poisson_cdf(k, lam) == pytest.approx(by_logs, rel=1e-9)
    level = reorder_level(lam, 0.99)
    assert poisson_cdf(level, lam) >= 0.99 > poisson_cdf(level - 1, lam)
    assert negbin_cdf(0, 5.0, 2.0) == pytest.approx(0.5 ** (5.0 / (2.0 - 1.0)))


def test_no_demand_needs_no_stock_and_bad_targets_are_refused():
    assert reorder_level(0.0, 0.99) == 0
    with pytest.raises(ValueError):
        reorder_level(1.0, 1.0)


def test_demand_is_installed_base_times_rate_times_lead_time():
    assert lead_time_demand(40, 0.02, 30) == pytest.approx(40 * 0.02 * 30 / 365.25)
    assert lead_time_demand(0, 0.02, 30) == 0


def test_failure_rate_uses_history_only_with_enough_of_it():
    years, failures = HISTORY_MIN_COMPONENT_YEARS, HISTORY_MIN_FAILURES
    enough = KindHistory(failures=failures, component_years=years)
    assert failure_rate("disk", 0.5, enough, SETTINGS) == (failures / years, "history")
    too_short = KindHistory(failures=failures, component_years=years * 0.99)
    assert failure_rate("disk", 0.5, too_short, SETTINGS) == (0.5, "catalogue")
    too_few = KindHistory(failures=failures - 1, component_years=years * 10)
    assert failure_rate("disk", None, too_few, SETTINGS) == (SETTINGS.afr_default["disk"], "default")
    assert failure_rate("board", None, None, SETTINGS)[1] == "fallback"


def test_dispersion_needs_a_year_and_overdispersion():
    bursty = [0, 0, 7, 0, 1, 0, 0, 6, 0, 0, 1, 0]
    expected = statistics.variance(bursty) / statistics.mean(bursty)
    assert expected > 1
    assert dispersion(bursty) == pytest.approx(expected)
    assert dispersion(bursty[:-1]) is None  # eleven months is not enough
    assert dispersion([1] * 24) is None  # steadier than Poisson: stay with Poisson


@pytest.mark.parametrize(
    ("kind", "models", "critical"),
    [
        ("cpu", [(2, "RAID1")], True),
        ("dimm", [(2, "RAID1")], True),
        ("psu", [(2, "RAID1")], False),
        ("psu", [(2, "RAID1"), (1, "RAID1")], True),  # one single-PSU model among those served is enough
        ("disk", [(2, "RAID5")], False),
        ("disk", [(2, "RAID0")], True),
        ("disk", [(2, "none")], True),
        ("fan", [(1, "none")], False),
        ("battery", [(1, "RAID0")], False),
    ],
)
def test_service_target_is_critical_when_one_failure_downs_a_server(kind, models, critical):
    expected = SETTINGS.stock_target_critical if critical else SETTINGS.stock_target_other
    assert service_target(kind, models, SETTINGS) == expected


def test_order_brings_available_back_to_the_level():
    assert order_quantity(5, 2) == 4  # back to 6: above the level of 5
    assert order_quantity(5, 5) == 1  # at the level is low: one unit
    assert order_quantity(5, 6) == 0
    assert order_quantity(5, 7) == 0
