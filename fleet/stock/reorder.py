"""Reorder levels: how many spares a site must hold so a part rarely runs out while more are on their way.

Pure maths, no I/O: the callers gather the installed base, failure history and stock from the database.

Demand during the replenishment lead time is Poisson with mean

    lambda = installed base x annualised failure rate x lead time in years

or, when the fleet's monthly failure counts are over-dispersed (variance/mean > 1, with enough months), a negative
binomial with the same mean and that variance-to-mean ratio. The reorder level is the smallest stock s with
P(demand <= s) >= target. The CDFs are written here (no scipy) through the regularised incomplete gamma and beta
functions, which stay accurate where summing pmf terms would underflow (exp(-lambda) for large lambda).
See docs/STOCK.md for the thresholds and why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fleet.config import Settings
from fleet.stock.low import is_low

# Failure rates from the fleet's own history are trusted only with this much exposure and this many failures;
# below that a handful of lucky or unlucky months would swing the rate, so the catalogue/default rate is used.
HISTORY_MIN_COMPONENT_YEARS = 100.0
HISTORY_MIN_FAILURES = 5
# Over-dispersion is only believed with a year of monthly counts and enough failures to estimate a variance.
DISPERSION_MIN_MONTHS = 12
DISPERSION_MIN_FAILURES = 10
# Kinds missing from Settings.afr_default (nic, board, other) and without a catalogue AFR.
AFR_FALLBACK = 0.01
# Kinds whose single failure takes a server down whatever the model: no redundancy in a server for these.
ALWAYS_CRITICAL_KINDS = frozenset({"cpu", "board", "dimm", "raid", "nic"})
# RAID levels that do not survive the loss of one disk.
NON_REDUNDANT_RAID = frozenset({"RAID0", "none", ""})

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 10_000


# --- special functions -------------------------------------------------------------------------------------------


def _gamma_series(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x) by its series (converges fast for x < a + 1)."""
    term = 1.0 / a
    total = term
    ap = a
    for _ in range(_MAX_ITER):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_cont_frac(a: float, x: float) -> float:
    """Regularised upper incomplete gamma Q(a, x) by its continued fraction (modified Lentz), for x >= a + 1."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h * math.exp(-x + a * math.log(x) - math.lgamma(a))


def gamma_q(a: float, x: float) -> float:
    """Regularised upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a)."""
    if a <= 0:
        raise ValueError("gamma_q needs a > 0")
    if x <= 0:
        return 1.0
    if x < a + 1.0:
        return 1.0 - _gamma_series(a, x)
    return _gamma_cont_frac(a, x)


def _beta_cont_frac(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def beta_i(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if a <= 0 or b <= 0:
        raise ValueError("beta_i needs a > 0 and b > 0")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    # The continued fraction converges fast on one side of the mean; use the symmetry I_x(a,b) = 1 - I_1-x(b,a).
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_cont_frac(a, b, x) / a
    return 1.0 - front * _beta_cont_frac(b, a, 1.0 - x) / b


# --- distributions -----------------------------------------------------------------------------------------------


def poisson_cdf(k: int, lam: float) -> float:
    """P(X <= k) for X ~ Poisson(lam): Q(k + 1, lam)."""
    if lam < 0:
        raise ValueError("a Poisson mean cannot be negative")
    if k < 0:
        return 0.0
    if lam == 0:
        return 1.0
    return min(1.0, max(0.0, gamma_q(k + 1.0, lam)))


def negbin_params(mean: float, dispersion: float) -> tuple[float, float]:
    """(r, p) of the negative binomial with this mean and variance = dispersion x mean (dispersion > 1).

    P(X = k) = C(k + r - 1, k) p^r (1 - p)^k, mean r(1-p)/p, variance mean/p, so p = 1/dispersion.
    """
    if dispersion <= 1.0:
        raise ValueError("a negative binomial needs variance above the mean (dispersion > 1)")
    p = 1.0 / dispersion
    r = mean * p / (1.0 - p)
    return r, p


def negbin_cdf(k: int, mean: float, dispersion: float) -> float:
    """P(X <= k) for the negative binomial of this mean and variance/mean ratio: I_p(r, k + 1)."""
    if mean < 0:
        raise ValueError("a mean demand cannot be negative")
    if k < 0:
        return 0.0
    if mean == 0:
        return 1.0
    r, p = negbin_params(mean, dispersion)
    return min(1.0, max(0.0, beta_i(r, k + 1.0, p)))


def demand_cdf(k: int, mean: float, dispersion: float | None = None) -> float:
    if dispersion is None or dispersion <= 1.0:
        return poisson_cdf(k, mean)
    return negbin_cdf(k, mean, dispersion)


def reorder_level(mean: float, target: float, dispersion: float | None = None) -> int:
    """The smallest stock s with P(demand during the lead time <= s) >= target."""
    if not 0.0 < target < 1.0:
        raise ValueError("the service target is a probability strictly between 0 and 1")
    # A CDF that lands exactly on the target meets it (NB(r, 1/2) at r-1 is exactly 1/2); the continued fractions
    # are good to ~1e-14, so compare with that slack or an exact tie goes either way.
    target -= 1e-12
    if mean < 0:
        raise ValueError("a mean demand cannot be negative")
    if demand_cdf(0, mean, dispersion) >= target:
        return 0
    # The CDF is monotone: double until the target is reached, then bisect.
    lo, hi = 0, max(1, math.ceil(mean))
    while demand_cdf(hi, mean, dispersion) < target:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if demand_cdf(mid, mean, dispersion) >= target:
            hi = mid
        else:
            lo = mid
    return hi


# --- inputs from the fleet ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindHistory:
    """What the fleet has seen of one part kind: swaps (failures), exposure, failures per calendar month."""

    failures: int = 0
    component_years: float = 0.0
    monthly_counts: tuple[int, ...] = ()


def failure_rate(
    kind: str, part_afr: float | None, history: KindHistory | None, settings: Settings
) -> tuple[float, str]:
    """(annualised failure rate, where it came from): history, catalogue, default or fallback."""
    if (
        history is not None
        and history.component_years >= HISTORY_MIN_COMPONENT_YEARS
        and history.failures >= HISTORY_MIN_FAILURES
    ):
        return history.failures / history.component_years, "history"
    if part_afr is not None:
        return part_afr, "catalogue"
    if kind in settings.afr_default:
        return settings.afr_default[kind], "default"
    return AFR_FALLBACK, "fallback"


def dispersion(monthly_counts: Sequence[int]) -> float | None:
    """Variance/mean of monthly failure counts when there is enough data and it is above 1, else None (Poisson)."""
    n = len(monthly_counts)
    total = sum(monthly_counts)
    if n < DISPERSION_MIN_MONTHS or total < DISPERSION_MIN_FAILURES:
        return None
    mean = total / n
    variance = sum((c - mean) ** 2 for c in monthly_counts) / (n - 1)
    ratio = variance / mean
    return ratio if ratio > 1.0 else None


def lead_time_demand(installed: int, afr: float, lead_time_days: float) -> float:
    """Expected failures during the lead time: installed base x AFR x lead time (years)."""
    return max(0, installed) * max(0.0, afr) * max(0.0, lead_time_days) / 365.25


def service_target(kind: str, models: Iterable[tuple[int, str]], settings: Settings) -> float:
    """The target for a part kind at a site, given the (psu_count, raid_level) of the server models it serves.

    Critical (Settings.stock_target_critical) when a single failure of the part can take a server down: always for
    cpu, board, dimm, raid controller and nic; a psu only in a model with one PSU; a disk only in a model whose array
    does not survive one lost disk (RAID0 or none). Everything else (fans, batteries, redundant PSUs and disks):
    Settings.stock_target_other.
    """
    if kind in ALWAYS_CRITICAL_KINDS:
        return settings.stock_target_critical
    for psu_count, raid_level in models:
        if kind == "psu" and psu_count < 2:
            return settings.stock_target_critical
        if kind == "disk" and (raid_level or "").strip() in NON_REDUNDANT_RAID:
            return settings.stock_target_critical
    return settings.stock_target_other


def order_quantity(level: int, position: int) -> int:
    """Units to order when the line is low (fleet.stock.low.is_low): enough to bring the inventory position
    (available + on order) back above the level; ordering only up to the level would leave it low and the next
    reservation uncovered."""
    return level + 1 - position if is_low(position, level) else 0
