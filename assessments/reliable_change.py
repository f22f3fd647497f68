"""Reliable change and clinical significance (Jacobson & Truax 1991): pure functions.

From the project's facts page (instruments.md):

    SE = SD * sqrt(1 - r);  S_diff = sqrt(2 * SE^2);  RC = (later - earlier) / S_diff

|RC| > 1.96 is reliable change; its sign, read with the scale's direction, says improved or
deteriorated. r is the scale's test-retest reliability (.93 for the SCS total, Neff 2003). The
SD is a configured reference SD with its source, else the clinic's own baseline SD once at least
30 clients have a baseline, else there is no verdict: "not enough data", never a guess.
Example: SD 0.70 and r .93 need a change of at least 0.51 on the SCS total.

Where an instrument gives a reliable-change threshold in points (PHQ-9 6, GAD-7 4: NHS Talking
Therapies), `reliable_change_for` uses it instead: a change of at least that many points is
reliable, and the verdict says which method it used (`method`).

Clinical-significance cut-offs between a clinical (1) and a functional (0) population:
a = M1 +/- 2 SD1, b = M0 -/+ 2 SD0, c = (SD0 * M1 + SD1 * M0) / (SD0 + SD1), only where both
populations' figures are configured.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from assessments.instruments import (
    HIGHER_IS_BETTER,
    HIGHER_IS_WORSE,
    TOTAL,
    ChangeThreshold,
    Instrument,
)

RC_THRESHOLD = 1.96
MIN_BASELINE_CLIENTS = 30

IMPROVED = "improved"
DETERIORATED = "deteriorated"
NO_RELIABLE_CHANGE = "no reliable change"
NOT_ENOUGH_DATA = "not enough data"
NOT_INTERPRETABLE = "not interpretable alone"  # SCS-SF subscales (Raes et al. 2011)

JACOBSON_TRUAX = "Jacobson & Truax"
THRESHOLD = "threshold"

SD_CONFIGURED = "configured"
SD_CLINIC_BASELINE = "clinic_baseline"
SD_NONE = "none"


@dataclass(frozen=True)
class SDChoice:
    """The SD used for reliable change, and where it comes from (or why there is none)."""

    value: float | None
    source: str
    kind: str  # SD_CONFIGURED, SD_CLINIC_BASELINE or SD_NONE
    baseline_clients: int | None = None  # how many baselines were counted, if any

    @property
    def available(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class ReliableChange:
    earlier: float | None
    later: float | None
    difference: float | None  # later - earlier
    direction: str
    sd: float | None
    sd_source: str
    retest_r: float | None
    se: float | None  # standard error of measurement
    s_diff: float | None  # standard error of the difference
    rc: float | None  # reliable change index
    minimum_change: float | None  # the smallest |difference| that is reliable
    reliable: bool | None  # None: no verdict
    verdict: str  # IMPROVED, DETERIORATED, NO_RELIABLE_CHANGE, NOT_ENOUGH_DATA, NOT_INTERPRETABLE
    reason: str = ""  # why there is no verdict
    method: str = JACOBSON_TRUAX  # or THRESHOLD (a fixed number of points, sd_source says which)

    @property
    def has_verdict(self) -> bool:
        return self.reliable is not None


@dataclass(frozen=True)
class Population:
    """A population's mean and SD on one scale, with where the figures come from."""

    mean: float
    sd: float
    source: str = ""


@dataclass(frozen=True)
class ClinicalCutoffs:
    """Jacobson & Truax cut-offs a, b and c, in the scale's units."""

    a: float  # two SDs beyond the clinical mean, towards the functional side
    b: float  # two SDs from the functional mean, towards the clinical side
    c: float  # where the two distributions meet, weighted by their SDs
    direction: str
    clinical: Population
    functional: Population

    def in_functional_range(self, score: float, cutoff: str = "c") -> bool:
        """Is `score` past cut-off a, b or c on the functional side?"""
        limit = {"a": self.a, "b": self.b, "c": self.c}[cutoff]
        return score > limit if self.direction == HIGHER_IS_BETTER else score < limit


# -- the arithmetic ---------------------------------------------------------------------------
def standard_error(sd: float, retest_r: float) -> float:
    """SE = SD * sqrt(1 - r)."""
    _check(sd, retest_r)
    return sd * math.sqrt(1 - retest_r)


def standard_error_of_difference(sd: float, retest_r: float) -> float:
    """S_diff = sqrt(2 * SE^2)."""
    return math.sqrt(2 * standard_error(sd, retest_r) ** 2)


def minimum_reliable_change(sd: float, retest_r: float) -> float:
    """The smallest change that is reliable: 1.96 * S_diff (SD 0.70, r .93: 0.51)."""
    return RC_THRESHOLD * standard_error_of_difference(sd, retest_r)


def _check(sd: float, retest_r: float) -> None:
    if not (math.isfinite(sd) and sd > 0):
        raise ValueError(f"the SD must be a positive number, got {sd!r}")
    if not 0 <= retest_r < 1:
        raise ValueError(f"the test-retest r must be at least 0 and below 1, got {retest_r!r}")


# -- choosing the SD --------------------------------------------------------------------------
def choose_sd(
    baseline_scores: Iterable[float | None] = (),
    *,
    configured_sd: float | None = None,
    configured_source: str = "",
) -> SDChoice:
    """The SD for reliable change, in the facts page's order of preference.

    1. A configured reference SD, with its source (required).
    2. Else the sample SD (ddof=1) of the clinic's baseline scores, one per client, once at
       least MIN_BASELINE_CLIENTS clients have one (blank scores are not counted).
    3. Else no SD (value None): reliable change then says "not enough data".
    """
    if configured_sd is not None:
        if not configured_source.strip():
            raise ValueError("a configured reference SD needs its source")
        if not (math.isfinite(configured_sd) and configured_sd > 0):
            raise ValueError(f"the SD must be a positive number, got {configured_sd!r}")
        return SDChoice(configured_sd, f"configured: {configured_source}", SD_CONFIGURED)
    scores = [s for s in baseline_scores if s is not None and not math.isnan(s)]
    if len(scores) < MIN_BASELINE_CLIENTS:
        return SDChoice(
            None,
            f"{NOT_ENOUGH_DATA}: no configured SD and {len(scores)} of "
            f"{MIN_BASELINE_CLIENTS} clients with a baseline",
            SD_NONE,
            len(scores),
        )
    sd = statistics.stdev(scores)
    if sd <= 0:
        return SDChoice(
            None, f"{NOT_ENOUGH_DATA}: every baseline score is the same", SD_NONE, len(scores)
        )
    return SDChoice(
        sd, f"this clinic's baseline SD ({len(scores)} clients)", SD_CLINIC_BASELINE, len(scores)
    )


def sd_from_moments(n: int, total: float, total_sq: float) -> SDChoice:
    """`choose_sd` of a clinic's baseline scores, from their count, sum and sum of squares
    (what assessments keeps per clinic and scale): the sample SD (ddof=1) once at least
    MIN_BASELINE_CLIENTS clients have a baseline, else no SD."""
    if n < MIN_BASELINE_CLIENTS:
        return SDChoice(
            None,
            f"{NOT_ENOUGH_DATA}: no configured SD and {max(n, 0)} of "
            f"{MIN_BASELINE_CLIENTS} clients with a baseline",
            SD_NONE,
            max(n, 0),
        )
    mean = total / n
    # Sums of squares lose a few bits to cancellation; a spread below this share of the mean
    # square is rounding, not data (every baseline the same).
    variance = max((total_sq - n * mean * mean) / (n - 1), 0.0)
    if variance <= 1e-12 * max(total_sq / n, 1.0):
        return SDChoice(None, f"{NOT_ENOUGH_DATA}: every baseline score is the same", SD_NONE, n)
    return SDChoice(
        math.sqrt(variance),
        f"this clinic's baseline SD ({n} clients)",
        SD_CLINIC_BASELINE,
        n,
    )


# -- reliable change --------------------------------------------------------------------------
def reliable_change(
    earlier: float | None,
    later: float | None,
    *,
    direction: str,
    retest_r: float | None,
    sd: SDChoice | None,
    interpretable: bool = True,
) -> ReliableChange:
    """Jacobson & Truax reliable change from `earlier` to `later`, read with `direction`.

    No verdict (reliable None) when a score is missing or the SD or r is unknown
    (NOT_ENOUGH_DATA), or when the scale is not interpretable alone (NOT_INTERPRETABLE).
    """
    if direction not in (HIGHER_IS_BETTER, HIGHER_IS_WORSE):
        raise ValueError(f"unknown direction {direction!r}")
    difference = None if earlier is None or later is None else later - earlier
    sd_value = sd.value if sd is not None else None
    sd_source = sd.source if sd is not None else "no SD"
    no_verdict = _why_no_verdict(difference, sd, retest_r, interpretable)
    if no_verdict or difference is None or sd_value is None or retest_r is None:
        verdict, reason = no_verdict or (NOT_ENOUGH_DATA, "")
        return ReliableChange(
            earlier=earlier,
            later=later,
            difference=difference,
            direction=direction,
            sd=sd_value,
            sd_source=sd_source,
            retest_r=retest_r,
            se=None,
            s_diff=None,
            rc=None,
            minimum_change=None,
            reliable=None,
            verdict=verdict,
            reason=reason,
        )
    s_diff = standard_error_of_difference(sd_value, retest_r)
    rc = difference / s_diff
    reliable = abs(rc) > RC_THRESHOLD
    return ReliableChange(
        earlier=earlier,
        later=later,
        difference=difference,
        direction=direction,
        sd=sd_value,
        sd_source=sd_source,
        retest_r=retest_r,
        se=standard_error(sd_value, retest_r),
        s_diff=s_diff,
        rc=rc,
        minimum_change=RC_THRESHOLD * s_diff,
        reliable=reliable,
        verdict=_verdict(rc, direction) if reliable else NO_RELIABLE_CHANGE,
    )


def reliable_change_for(
    instrument: Instrument,
    scale: str,
    earlier: float | None,
    later: float | None,
    sd: SDChoice | None,
) -> ReliableChange:
    """`reliable_change` with the scale's direction, r and interpretability from `instrument`;
    `threshold_change` where the instrument gives a threshold in points for the scale.

    `scale` is "total", a subscale code or a composite code.
    """
    threshold = instrument.change_threshold(scale)
    if threshold is not None:
        return threshold_change(
            earlier, later, direction=instrument.direction(scale), threshold=threshold
        )
    reliability = instrument.reliability_for(scale)
    interpretable = scale == TOTAL or all(
        s.interpretable for s in instrument.subscales if s.code == scale
    )
    return reliable_change(
        earlier,
        later,
        direction=instrument.direction(scale),
        retest_r=reliability.retest_r if reliability else None,
        sd=sd,
        interpretable=interpretable,
    )


def threshold_change(
    earlier: float | None, later: float | None, *, direction: str, threshold: ChangeThreshold
) -> ReliableChange:
    """Reliable change as NHS Talking Therapies counts it: a change of at least
    `threshold.points` (6 on the PHQ-9, 4 on the GAD-7; the threshold itself is reliable), read
    with `direction`. No verdict when a score is missing."""
    if direction not in (HIGHER_IS_BETTER, HIGHER_IS_WORSE):
        raise ValueError(f"unknown direction {direction!r}")
    difference = None if earlier is None or later is None else later - earlier
    source = f"a change of {threshold.points:g} points or more ({threshold.source})"
    reliable = None if difference is None else abs(difference) >= threshold.points
    if reliable is None:
        verdict = NOT_ENOUGH_DATA
    elif reliable:
        verdict = _verdict(difference, direction)
    else:
        verdict = NO_RELIABLE_CHANGE
    return ReliableChange(
        earlier=earlier,
        later=later,
        difference=difference,
        direction=direction,
        sd=None,
        sd_source=source,
        retest_r=None,
        se=None,
        s_diff=None,
        rc=None,
        minimum_change=threshold.points,
        reliable=reliable,
        verdict=verdict,
        reason="one of the two scores is missing" if difference is None else "",
        method=THRESHOLD,
    )


def _why_no_verdict(
    difference: float | None, sd: SDChoice | None, retest_r: float | None, interpretable: bool
) -> tuple[str, str] | None:
    if not interpretable:
        return NOT_INTERPRETABLE, "the authors advise against interpreting this scale alone"
    if difference is None:
        return NOT_ENOUGH_DATA, "one of the two scores is missing"
    if sd is None or sd.value is None:
        return NOT_ENOUGH_DATA, sd.source if sd is not None else "no SD was given"
    if retest_r is None:
        return NOT_ENOUGH_DATA, "no test-retest reliability for this scale"
    return None


def _verdict(rc: float, direction: str) -> str:
    went_up = rc > 0
    return IMPROVED if went_up == (direction == HIGHER_IS_BETTER) else DETERIORATED


# -- clinical significance --------------------------------------------------------------------
def clinical_cutoffs(
    clinical: Population | None, functional: Population | None, *, direction: str
) -> ClinicalCutoffs | None:
    """Cut-offs a, b and c; None unless both populations' figures are given.

    With higher = better the clinical mean lies below: a = M1 + 2 SD1, b = M0 - 2 SD0; with
    higher = worse the signs flip. c = (SD0 * M1 + SD1 * M0) / (SD0 + SD1) either way.
    """
    if clinical is None or functional is None:
        return None
    if direction not in (HIGHER_IS_BETTER, HIGHER_IS_WORSE):
        raise ValueError(f"unknown direction {direction!r}")
    for population in (clinical, functional):
        if not (math.isfinite(population.sd) and population.sd > 0):
            raise ValueError(f"a population SD must be a positive number, got {population.sd!r}")
    towards_functional = 1 if direction == HIGHER_IS_BETTER else -1
    m1, sd1, m0, sd0 = clinical.mean, clinical.sd, functional.mean, functional.sd
    return ClinicalCutoffs(
        a=m1 + towards_functional * 2 * sd1,
        b=m0 - towards_functional * 2 * sd0,
        c=(sd0 * m1 + sd1 * m0) / (sd0 + sd1),
        direction=direction,
        clinical=clinical,
        functional=functional,
    )
