"""Which carer may take which visit, before any solver variable exists (vectorised with numpy).

``compute_eligibility(instance)`` checks every carer against every visit for the rules that do not
depend on the rest of the rota: R1 vetting, R2 training, R3 family wishes, R5 availability (some
start in the flex window fits one availability window and touches no absence), R7 overnight (some
start keeps the visit in core hours, or the carer does overnight work), R8 driving, R9 mileage
(trip miles alone within the cap; see below), R10 (the visit alone longer than the carer's weekly
limit), R11 (the visit alone leaves no daily rest in the 24 h from its start) and R12 (a young
worker: the visit at most 8 h and some start keeps its working time inside 06:00-22:00).

R5, R7 and R12 must hold at the *same* start: ``allowed_starts(c, v)`` gives the start ranges
(inclusive, epoch minutes) where they all hold, and a pair with none is not eligible (its reason is
given under R5 when each rule alone could be met). For a young worker the range keeps the journey
from home inside 06:00-22:00 as well, so that R12 holds whichever way R13 makes the carer travel
(a journey from an earlier visit of the same day starts after 06:00 anyway).

R9 nuance: the journey into a visit depends on where the carer comes from (R13), so a carer whose
home is over the cap may still take the visit straight after a nearby visit. ``ok`` is False only
for causes that hold whatever the rota (here: trip miles alone over the cap); ``home_within_cap``
says whether the journey from home keeps within it, and ``ok_strict = ok & home_within_cap``.
``reason_codes`` has bit ``Rk - 1`` set for each rule that excludes the pair, R9 included when the
journey from home breaks the cap, so ``ok_strict == (reason_codes == 0)``.

What is left to the rota (the solver and the checker): R4 2:1 synchrony, R6, R9 on the real
journey, R10-R15 over the week, and R12's 8 h a day counting travel and the day's other visits.

Scale: 1,000 carers x 8,702 visits (generator size L) in about 2 s of CPU; for the solver,
``allowed_starts_by_visit(c)`` gives one carer's start ranges for all its visits at once.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

import numpy as np

from roster.model import Instance, Window
from roster.rules import (
    DAY_MIN,
    RULES_BY_CODE,
    YOUNG_AGE,
    YOUNG_DAY_MAX_MIN,
    YOUNG_NIGHT,
    availability_windows,
    format_hours,
    format_span,
    limits,
    r1_vetting,
    r2_training,
    r3_family_wishes,
    r8_driving,
    travel_model,
)
from roster.travel import TravelModel

BIG = 10**9
NEVER = 10**8
"""A day ordinal later than any real expiry: a competency that never expires."""
NOT_HELD = -(10**8)


def _bit(code: str) -> int:
    return RULES_BY_CODE[code].bit


def _mark(codes: np.ndarray, mask: np.ndarray, code: str) -> None:
    """Set rule ``code``'s bit where ``mask`` (arithmetic, much faster than masked assignment)."""
    np.bitwise_or(codes, mask.astype(np.uint16) * np.uint16(_bit(code)), out=codes)


@dataclass(frozen=True, eq=False)
class Eligibility:
    """Carers x visits eligibility, with reasons. Arrays are (n_carers, n_visits) and read-only."""

    instance: Instance
    ok: np.ndarray
    """True when no rule that holds whatever the rota excludes the pair."""
    reason_codes: np.ndarray
    """uint16 bitmask: bit k-1 set when rule Rk excludes the pair (R9: journey from home)."""
    home_miles: np.ndarray
    home_minutes: np.ndarray
    home_within_cap: np.ndarray
    start_lo: np.ndarray
    """(n_visits,) earliest start: planned - flex."""
    start_hi: np.ndarray
    """(n_visits,) latest start: planned + flex."""
    _pieces: tuple[np.ndarray, ...] = field(repr=False, default=())
    """Per carer, (k, 2) array of [start, end) spans inside availability and clear of absences."""
    _bands: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    """(4, n_days) table: core start, core end, young day start, young day end per local day."""
    _visit_table: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    """(3, n_visits): duration, index of the visit date in ``_bands``, visit date ordinal."""
    _carer_table: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    """(2, n_carers): ordinal of the 18th birthday, overnight_ok."""

    @property
    def ok_strict(self) -> np.ndarray:
        """Eligible even when travelling from home (R9 kept on the journey from home)."""
        return self.ok & self.home_within_cap

    def eligible_carers(self, visit_index: int) -> np.ndarray:
        """Indices of the carers eligible for the visit (``ok``)."""
        return np.flatnonzero(self.ok[:, visit_index])

    def codes(self, carer_index: int, visit_index: int) -> tuple[str, ...]:
        """Rule codes excluding the pair (R9 when over the cap from home)."""
        bits = int(self.reason_codes[carer_index, visit_index])
        return tuple(code for code, rule in RULES_BY_CODE.items() if bits & rule.bit)

    def cause_counts(self, visit_index: int) -> dict[str, int]:
        """How many carers each rule excludes from the visit (a carer may count under several)."""
        column = self.reason_codes[:, visit_index]
        return {
            code: int(np.count_nonzero(column & rule.bit))
            for code, rule in RULES_BY_CODE.items()
            if np.any(column & rule.bit)
        }

    def reasons(self, carer_index: int, visit_index: int) -> tuple[str, ...]:
        """Plain-English reasons, one per rule code, why the carer cannot take the visit."""
        inst = self.instance
        carer = inst.carers[carer_index]
        visit = inst.visits[visit_index]
        out: list[str] = []
        lo, hi = int(self.start_lo[visit_index]), int(self.start_hi[visit_index])
        window = format_span(inst, lo, hi + visit.duration_min)
        for code in self.codes(carer_index, visit_index):
            why: str | None = None
            if code == "R1":
                why = r1_vetting(inst, carer, visit)
            elif code == "R2":
                why = r2_training(inst, carer, visit)
            elif code == "R3":
                why = r3_family_wishes(inst, carer, visit)
            elif code == "R5":
                if not self._r5_alone(carer_index, visit_index):
                    why = f"not available (or absent) for any start of the visit within {window}"
                else:
                    why = (
                        f"no start within {window} is both inside availability and inside "
                        + ("young-worker hours 06:00-22:00 (travel from home included)"
                           if self._young(carer_index, visit_index) else "core hours")
                    )
            elif code == "R7":
                why = (
                    f"the visit cannot stay inside core hours {inst.settings.core_hours[0]}-"
                    f"{inst.settings.core_hours[1]} ({window}) and the carer does not do overnight work"
                )
            elif code == "R8":
                why = r8_driving(inst, carer, visit)
            elif code == "R9":
                cap = inst.child_cap(inst.child(visit.child_id))
                miles = float(self.home_miles[carer_index, visit_index])
                if visit.trip_miles > cap:
                    why = f"trip miles {visit.trip_miles:g} alone exceed the cap of {cap:g}"
                else:
                    why = (
                        f"home is {miles:.{2 if round(miles + visit.trip_miles, 2) > cap else 4}f} miles away "
                        f"+ {visit.trip_miles:g} trip miles, over the "
                        f"cap of {cap:g} (possible only straight after a nearby visit)"
                    )
            elif code == "R10":
                lim = limits(inst, carer)
                why = (
                    f"the visit alone ({visit.duration_min} min) exceeds the weekly limit of "
                    f"{format_hours(lim.max_week_min)}"
                )
            elif code == "R11":
                lim = limits(inst, carer)
                why = (
                    f"the visit alone ({visit.duration_min} min) leaves less than "
                    f"{format_hours(lim.daily_rest_min)} of rest in the 24 h from its start"
                )
            elif code == "R12":
                if visit.duration_min > YOUNG_DAY_MAX_MIN:
                    why = f"under 18 on {visit.date} and the visit lasts over 8 h"
                else:
                    why = f"under 18 on {visit.date} and no start keeps the visit inside 06:00-22:00"
            out.append(f"{code}: {why or RULES_BY_CODE[code].name}")
        return tuple(out)

    def allowed_starts(self, carer_index: int, visit_index: int) -> list[tuple[int, int]]:
        """Inclusive epoch-minute ranges [lo, hi] of starts inside the flex window that keep R5
        (availability, no absence), R7 (core hours unless overnight_ok) and R12 (young worker,
        working time from home inside 06:00-22:00). Empty when no start does."""
        lo_hi = self._start_ranges(carer_index, visit_index, r5=True, r7=True, r12=True)
        return _union(lo_hi)

    def allowed_starts_by_visit(
        self, carer_index: int, visit_indices: Sequence[int] | np.ndarray | None = None
    ) -> dict[int, list[tuple[int, int]]]:
        """``allowed_starts`` for many visits of one carer at once, vectorised over the visits.

        ``visit_indices`` defaults to the visits the carer is eligible for (``ok``). Returns
        visit index -> inclusive ranges, exactly as ``allowed_starts(carer_index, v)`` would.
        """
        c = carer_index
        idx = (
            np.flatnonzero(self.ok[c])
            if visit_indices is None
            else np.asarray(visit_indices, dtype=np.int64).reshape(-1)
        )
        out: dict[int, list[tuple[int, int]]] = {int(v): [] for v in idx}
        pieces = self._pieces[c]
        if not len(idx) or not len(pieces):
            return out
        lo, hi = self.start_lo[idx], self.start_hi[idx]
        dur, day, v_date = self._visit_table[0][idx], self._visit_table[1][idx], self._visit_table[2][idx]
        need_core = not bool(self._carer_table[1][c])
        young = v_date < self._carer_table[0][c]
        dead = young & (dur > YOUNG_DAY_MAX_MIN)
        band_lo = np.full((3, len(idx)), -BIG, dtype=np.int64)
        band_hi = np.full((3, len(idx)), BIG, dtype=np.int64)
        days = np.stack([day - 1, day, day + 1])
        if need_core:
            band_lo = np.maximum(band_lo, self._bands[0][days])
            band_hi = np.minimum(band_hi, self._bands[1][days] - dur[None, :])
        if young.any():
            home = self.home_minutes[c, idx].astype(np.int64)
            band_lo = np.where(young[None, :], np.maximum(band_lo, self._bands[2][days] + home[None, :]), band_lo)
            band_hi = np.where(young[None, :], np.minimum(band_hi, self._bands[3][days] - dur[None, :]), band_hi)
        if not need_core and not young.any():
            band_lo, band_hi = band_lo[:1], band_hi[:1]
        ps, pe = pieces[:, 0], pieces[:, 1]
        first = np.searchsorted(pe, lo + dur, side="left")
        found_pos, found_lo, found_hi = [], [], []
        step = 0
        while True:
            j = first + step
            live = (j < len(pieces)) & ~dead
            jj = np.minimum(j, len(pieces) - 1)
            live &= ps[jj] <= hi
            if not live.any():
                break
            s_lo = np.maximum(ps[jj], lo)
            s_hi = np.minimum(pe[jj] - dur, hi)
            r_lo = np.maximum(s_lo[None, :], band_lo)
            r_hi = np.minimum(s_hi[None, :], band_hi)
            hit = live[None, :] & (r_lo <= r_hi)
            k, pos = np.nonzero(hit)
            found_pos.append(pos)
            found_lo.append(r_lo[k, pos])
            found_hi.append(r_hi[k, pos])
            step += 1
        if found_pos and sum(len(p) for p in found_pos):
            pos_all = np.concatenate(found_pos)
            lo_all = np.concatenate(found_lo)
            hi_all = np.concatenate(found_hi)
            order = np.lexsort((lo_all, pos_all))
            pos_all, lo_all, hi_all = pos_all[order], lo_all[order], hi_all[order]
            # Merge overlapping or touching ranges of the same visit: a running maximum of the
            # ends inside each visit's group (offset by the group so it restarts per visit).
            shift = pos_all.astype(np.int64) << 40
            reach = np.maximum.accumulate(hi_all + shift) - shift
            new = np.ones(len(pos_all), dtype=bool)
            new[1:] = (pos_all[1:] != pos_all[:-1]) | (lo_all[1:] > reach[:-1] + 1)
            starts = np.flatnonzero(new)
            ends = np.append(starts[1:], len(pos_all)) - 1
            visit_of = idx[pos_all[starts]].tolist()
            for v, a, b in zip(visit_of, lo_all[starts].tolist(), reach[ends].tolist(), strict=True):
                out[v].append((a, b))
        return out

    # ---- scalar helpers behind reasons() and allowed_starts() ------------------------
    def _young(self, c: int, v: int) -> bool:
        carer = self.instance.carers[c]
        return carer.age_on(self.instance.visits[v].date) < YOUNG_AGE

    def _r5_alone(self, c: int, v: int) -> bool:
        return bool(self._start_ranges(c, v, r5=True, r7=False, r12=False))

    def _start_ranges(self, c: int, v: int, *, r5: bool, r7: bool, r12: bool) -> list[tuple[int, int]]:
        inst = self.instance
        carer = inst.carers[c]
        visit = inst.visits[v]
        dur = visit.duration_min
        lo, hi = int(self.start_lo[v]), int(self.start_hi[v])
        if r5:
            starts, ends = self._piece_lists[c]
            first = bisect.bisect_left(ends, lo + dur)  # starts and ends strictly increase
        else:
            starts, ends, first = [-BIG], [BIG], 0
        bands: list[tuple[int, int]] = [(-BIG, BIG)]
        need_core = r7 and not carer.overnight_ok
        young = r12 and self._young(c, v)
        if young and dur > YOUNG_DAY_MAX_MIN:
            return []
        if need_core or young:
            bands = []
            offset = (visit.date - inst.settings.week_start).days + 2
            home = int(self.home_minutes[c, v])
            table = self._band_lists
            for d in (offset - 1, offset, offset + 1):
                if not 0 <= d < len(table[0]):
                    continue
                b_lo, b_hi = -BIG, BIG
                if need_core:
                    b_lo, b_hi = table[0][d], table[1][d] - dur
                if young:
                    b_lo = max(b_lo, table[2][d] + home)
                    b_hi = min(b_hi, table[3][d] - dur)
                bands.append((b_lo, b_hi))
        out: list[tuple[int, int]] = []
        for j in range(first, len(starts)):
            ps, pe = starts[j], ends[j]
            if ps > hi:
                break
            for b_lo, b_hi in bands:
                s = max(ps, lo, b_lo)
                e = min(pe - dur, hi, b_hi)
                if s <= e:
                    out.append((s, e))
        return out

    @cached_property
    def _piece_lists(self) -> tuple[tuple[list[int], list[int]], ...]:
        return tuple((p[:, 0].tolist(), p[:, 1].tolist()) for p in self._pieces)

    @cached_property
    def _band_lists(self) -> list[list[int]]:
        return [row.tolist() for row in self._bands]


def _union(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if merged and s <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def free_pieces(windows: tuple[Window, ...], absences: tuple[Window, ...]) -> np.ndarray:
    """Availability minus absences, as [start, end) spans a whole visit may lie in (R5).

    A visit may not even touch an absence, so a visit ``[s, e]`` fits a piece when it ends at least
    a minute before the absence starts or starts a minute after it ends: [a - 1, b + 1) is removed.
    """
    pieces = [(w.start, w.end) for w in windows]
    for ab in absences:
        cut_lo, cut_hi = ab.start - 1, ab.end + 1
        nxt: list[tuple[int, int]] = []
        for s, e in pieces:
            if cut_hi <= s or e <= cut_lo:
                nxt.append((s, e))
                continue
            if s < cut_lo:
                nxt.append((s, cut_lo))
            if cut_hi < e:
                nxt.append((cut_hi, e))
        pieces = nxt
    # Windows may overlap (R5 does not merge rows), so cutting can leave a piece inside another:
    # drop those, keeping starts and ends strictly increasing for the searches below.
    kept: list[tuple[int, int]] = []
    for s, e in sorted(pieces, key=lambda p: (p[0], -p[1])):
        if e > s and not (kept and e <= kept[-1][1]):
            kept.append((s, e))
    arr = np.array(kept, dtype=np.int64).reshape(-1, 2)
    arr.setflags(write=False)
    return arr


def _home_journeys(
    instance: Instance, travel: TravelModel | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(miles, minutes) from each carer's home to each visit's place, (n_carers, n_visits)."""
    model = travel_model(instance, travel)
    n_c, n_v = len(instance.carers), len(instance.visits)
    c_lat = np.array([c.lat for c in instance.carers], dtype=float)
    c_lon = np.array([c.lon for c in instance.carers], dtype=float)
    places = np.array([instance.visit_location(v) for v in instance.visits], dtype=float).reshape(n_v, 2)
    # Many visits share a place (the child's home): compute each distinct place once.
    unique, where = np.unique(places, axis=0, return_inverse=True)
    where = where.reshape(n_v)
    miles = np.empty((n_c, n_v), dtype=float)
    minutes = np.empty((n_c, n_v), dtype=np.int32)
    block = max(1, 2_000_000 // max(len(unique), 1))
    for lo in range(0, n_c, block):
        hi = min(n_c, lo + block)
        block_miles, block_minutes = model.journey_matrix(
            c_lat[lo:hi], c_lon[lo:hi], unique[:, 0], unique[:, 1]
        )
        miles[lo:hi] = block_miles[:, where]
        minutes[lo:hi] = block_minutes[:, where]
    if model.matrix:
        # A supplied travel.csv wins over the default model: child-place keys first, so that a
        # visit-specific key overrides them (same lookup order as roster.rules.visit_place_ids).
        visits_of_child: dict[str, list[int]] = {}
        for j, v in enumerate(instance.visits):
            if v.lat is None or v.lon is None:
                visits_of_child.setdefault(v.child_id, []).append(j)
        c_index, v_index = instance.carer_index, instance.visit_index
        for (f, t), (mi, mn) in model.matrix.items():
            if f in c_index and t in visits_of_child:
                for j in visits_of_child[t]:
                    miles[c_index[f], j], minutes[c_index[f], j] = mi, mn
        for (f, t), (mi, mn) in model.matrix.items():
            if f in c_index and t in v_index:
                miles[c_index[f], v_index[t]], minutes[c_index[f], v_index[t]] = mi, mn
    return miles, minutes


def _dbs_lapse(issued: date, years: int) -> date:
    """The first day a DBS certificate is no longer current (R1, as ``rules.r1_vetting``): the
    anniversary, and 28 February for a 29 February issue (the stricter of the two readings)."""
    try:
        return issued.replace(year=issued.year + years)
    except ValueError:
        return issued.replace(year=issued.year + years, day=28)


def _birthday(dob: date, years: int) -> date:
    try:
        return dob.replace(year=dob.year + years)
    except ValueError:
        return dob.replace(year=dob.year + years, month=3, day=1)


def compute_eligibility(instance: Instance, travel: TravelModel | None = None) -> Eligibility:
    """Every carer against every visit for the rules that do not depend on the rest of the rota.

    ``travel`` is the travel model (a supplied travel.csv via ``roster.io.load_travel``); without
    it, the instance's default model.
    """
    inst = instance
    s = inst.settings
    carers, visits = inst.carers, inst.visits
    n_c, n_v = len(carers), len(visits)
    codes = np.zeros((n_c, n_v), dtype=np.uint16)

    # ---- per-visit arrays -----------------------------------------------------------------
    v_date = np.array([v.date.toordinal() for v in visits], dtype=np.int64).reshape(n_v)
    dur = np.array([v.duration_min for v in visits], dtype=np.int64).reshape(n_v)
    flex = np.array([v.flex_min for v in visits], dtype=np.int64).reshape(n_v)
    planned = np.array(inst.planned_start, dtype=np.int64).reshape(n_v)
    lo, hi = planned - flex, planned + flex
    trip = np.array([v.trip_miles for v in visits], dtype=float).reshape(n_v)
    cap = np.array([inst.child_cap(inst.child(v.child_id)) for v in visits], dtype=float).reshape(n_v)

    # ---- R1 vetting -------------------------------------------------------------------------
    barred = np.array([c.dbs_check == "enhanced_barred_children" for c in carers], dtype=bool)
    update = np.array([c.dbs_update_service for c in carers], dtype=bool)
    issued = np.array(
        [c.dbs_issued.toordinal() if c.dbs_issued else BIG for c in carers], dtype=np.int64
    )
    dbs_expiry = np.array(
        [
            _dbs_lapse(c.dbs_issued, s.dbs_max_age_years).toordinal() if c.dbs_issued else -BIG
            for c in carers
        ],
        dtype=np.int64,
    )
    current = (issued[:, None] <= v_date[None, :]) & (v_date[None, :] < dbs_expiry[:, None])
    r1_ok = barred[:, None] & (update[:, None] | current)
    _mark(codes, ~r1_ok, "R1")
    del current, r1_ok

    # ---- R2 training --------------------------------------------------------------------------
    r2_bad = np.zeros((n_c, n_v), dtype=bool)
    needs: dict[str, list[int]] = {}
    for j, v in enumerate(visits):
        for comp in v.competencies:
            if comp not in s.mandatory_training:
                needs.setdefault(comp, []).append(j)
    held = inst.training_by_carer
    for comp in (*dict.fromkeys(s.mandatory_training), *needs):
        expiry = np.array(
            [
                (NEVER if held[c.carer_id][comp] is None else held[c.carer_id][comp].toordinal())  # type: ignore[union-attr]
                if comp in held.get(c.carer_id, {})
                else NOT_HELD
                for c in carers
            ],
            dtype=np.int64,
        )
        if comp in s.mandatory_training:
            r2_bad |= expiry[:, None] < v_date[None, :]
        else:
            idx = np.array(needs[comp], dtype=np.int64)
            r2_bad[:, idx] |= expiry[:, None] < v_date[None, idx]
    _mark(codes, r2_bad, "R2")
    del r2_bad

    # ---- R3 family wishes --------------------------------------------------------------------
    gender = np.array([c.gender for c in carers])
    visits_of_child: dict[str, list[int]] = {}
    for j, v in enumerate(visits):
        visits_of_child.setdefault(v.child_id, []).append(j)
    for child in inst.children:
        idx = np.array(visits_of_child.get(child.child_id, []), dtype=np.int64)
        if not len(idx):
            continue
        if child.gender_required:
            wrong = np.flatnonzero(gender != child.gender_required)
            codes[np.ix_(wrong, idx)] |= _bit("R3")
        for refused in child.excluded_carers:
            if refused in inst.carer_index:
                codes[inst.carer_index[refused], idx] |= _bit("R3")

    # ---- R8 driving --------------------------------------------------------------------------
    drives = np.array([c.drives for c in carers], dtype=bool)
    needs_car = np.array([v.needs_driver or v.trip_miles > 0 for v in visits], dtype=bool).reshape(n_v)
    codes[np.ix_(np.flatnonzero(~drives), np.flatnonzero(needs_car))] |= _bit("R8")

    # ---- R9 mileage cap (from home) ------------------------------------------------------------
    home_miles, home_minutes = _home_journeys(inst, travel)
    home_within_cap = home_miles + trip[None, :] <= cap[None, :] + 1e-9  # unrounded, as R9
    _mark(codes, ~home_within_cap, "R9")
    trip_over = trip > cap + 1e-9

    # ---- R10 / R11: the visit alone over a weekly limit ---------------------------------------
    lims = [limits(inst, c) for c in carers]
    week_max = np.array([lim.max_week_min for lim in lims], dtype=np.int64)
    day_rest = np.array([lim.daily_rest_min for lim in lims], dtype=np.int64)
    _mark(codes, dur[None, :] > week_max[:, None], "R10")
    _mark(codes, dur[None, :] > (DAY_MIN - day_rest)[:, None], "R11")

    # ---- R5 / R7 / R12: some start in the flex window ------------------------------------------
    clock = inst.clock
    core_lo, core_hi = inst.core_band
    day_list = [s.week_start + timedelta(days=d) for d in range(-2, 10)]
    bands = np.array(
        [
            [clock.minute_of(d, core_lo) for d in day_list],
            [clock.minute_of(d, core_hi) for d in day_list],
            [clock.minute_of(d, YOUNG_NIGHT[0]) for d in day_list],
            [clock.minute_of(d, YOUNG_NIGHT[1]) for d in day_list],
        ],
        dtype=np.int64,
    )
    offset = np.clip(
        (v_date - s.week_start.toordinal()) + 2, 1, len(day_list) - 2
    )
    day_idx = np.stack([offset - 1, offset, offset + 1])  # (3, n_v)
    c_lo = np.maximum(bands[0][day_idx], lo[None, :])
    c_hi = np.minimum(bands[1][day_idx] - dur[None, :], hi[None, :])
    core_possible = np.any(c_lo <= c_hi, axis=0)
    y_band_lo = bands[2][day_idx]  # + home minutes per carer
    y_band_hi = np.minimum(bands[3][day_idx] - dur[None, :], hi[None, :])
    young_possible = np.any(np.maximum(y_band_lo, lo[None, :]) <= y_band_hi, axis=0) & (
        dur <= YOUNG_DAY_MAX_MIN
    )

    overnight = np.array([c.overnight_ok for c in carers], dtype=bool)
    codes[np.ix_(np.flatnonzero(~overnight), np.flatnonzero(~core_possible))] |= _bit("R7")

    birthday18 = np.array(
        [_birthday(c.date_of_birth, YOUNG_AGE).toordinal() for c in carers], dtype=np.int64
    )
    pieces_of: list[np.ndarray] = []
    for i, carer in enumerate(carers):
        pieces = free_pieces(
            availability_windows(inst).get(carer.carer_id, ()),
            inst.absences_by_carer.get(carer.carer_id, ()),
        )
        pieces_of.append(pieces)
        young = v_date < birthday18[i]
        if young.any():
            codes[i, young & ~young_possible] |= _bit("R12")
        r5_alone = _fits(pieces, lo, hi, dur, None, None)
        codes[i, ~r5_alone] |= _bit("R5")
        need_core = not overnight[i]
        if not need_core and not young.any():
            continue
        b_lo = np.full((3, n_v), -BIG, dtype=np.int64)
        b_hi = np.full((3, n_v), BIG, dtype=np.int64)
        if need_core:
            b_lo, b_hi = c_lo, c_hi
        if young.any():
            yl = np.where(young[None, :], y_band_lo + home_minutes[i][None, :], -BIG)
            yh = np.where(young[None, :], y_band_hi, BIG)
            b_lo, b_hi = np.maximum(b_lo, yl), np.minimum(b_hi, yh)
        together = _fits(pieces, lo, hi, dur, b_lo, b_hi)
        # Each rule alone can be met but not at one start: say so under R5.
        codes[i, r5_alone & ~together] |= _bit("R5")

    ok = (codes & np.uint16(0xFFFF ^ _bit("R9"))) == 0
    ok &= ~trip_over[None, :]
    for arr in (ok, codes, home_miles, home_minutes, home_within_cap, lo, hi):
        arr.setflags(write=False)
    return Eligibility(
        instance=inst,
        ok=ok,
        reason_codes=codes,
        home_miles=home_miles,
        home_minutes=home_minutes,
        home_within_cap=home_within_cap,
        start_lo=lo,
        start_hi=hi,
        _pieces=tuple(pieces_of),
        _bands=bands,
        _visit_table=np.stack([dur, offset, v_date]),
        _carer_table=np.stack([birthday18, overnight.astype(np.int64)]),
    )


def _fits(
    pieces: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    dur: np.ndarray,
    band_lo: np.ndarray | None,
    band_hi: np.ndarray | None,
) -> np.ndarray:
    """For every visit: is there a start in [lo, hi] (and inside one of the 3 day bands, if given)
    with [start, start + dur) inside one piece?"""
    n_v = len(lo)
    result = np.zeros(n_v, dtype=bool)
    if not len(pieces):
        return result
    ps, pe = pieces[:, 0], pieces[:, 1]
    # The first piece that could hold the visit ends at or after lo + dur; pieces have strictly
    # and sorted, so walk forward while a piece starts no later than hi.
    j = np.searchsorted(pe, lo + dur, side="left")
    k = len(pieces)
    active = j < k
    step = 0
    while active.any():
        jj = np.minimum(j + step, k - 1)
        valid = active & (j + step < k)
        p_lo, p_hi = ps[jj], pe[jj]
        valid &= p_lo <= hi
        if not valid.any():
            break
        s_lo = np.maximum(p_lo, lo)
        s_hi = np.minimum(p_hi - dur, hi)
        if band_lo is None or band_hi is None:
            hit = s_lo <= s_hi
        else:
            hit = np.any(
                np.maximum(s_lo[None, :], band_lo) <= np.minimum(s_hi[None, :], band_hi), axis=0
            )
        result |= valid & hit
        active = valid & ~result
        step += 1
    return result
