"""Travel between places: the contract's default model, or a supplied matrix.

Default (contract §1, ``instance.json`` ``travel``): road miles = great-circle miles x
``road_factor``; minutes = ceil(road miles / ``speed_mph`` x 60). Great-circle distance is
geopy's (``geopy.distance.great_circle``, mean Earth radius 6371.009 km); the vectorised numpy
version here uses the same formula and radius so the two agree to rounding.

A road-network service can be plugged in by supplying ``travel.csv`` (from, to, miles, minutes)
keyed by place ids (a carer id for a home, a visit id or child id for a visit's place); pairs the
matrix does not hold fall back to the default model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from geopy.distance import EARTH_RADIUS, great_circle

from roster.model import Travel

EARTH_RADIUS_MILES: float = EARTH_RADIUS / 1.609344
"""geopy's mean Earth radius (6371.009 km) in statute miles."""

# Miles are kept unrounded inside roster: minutes are ceil(road miles / speed x 60) on the
# unrounded miles, exactly as the contract writes it, and the R9 cap is compared on the unrounded
# miles (rounding a value at or under a cap of whole hundredths never lifts it over the cap).
# Files carry this many decimals.
MILES_DECIMALS = 4


def great_circle_miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle miles between two (lat, lon) points, by geopy."""
    return float(great_circle(a, b).miles)


def great_circle_miles_matrix(
    lat_a: np.ndarray, lon_a: np.ndarray, lat_b: np.ndarray, lon_b: np.ndarray
) -> np.ndarray:
    """Great-circle miles between every point of A (rows) and of B (columns), vectorised.

    Same formula as ``geopy.distance.great_circle`` (atan2 of the spherical law, Vincenty form).
    """
    la1 = np.radians(np.asarray(lat_a, dtype=float))[:, None]
    lo1 = np.radians(np.asarray(lon_a, dtype=float))[:, None]
    la2 = np.radians(np.asarray(lat_b, dtype=float))[None, :]
    lo2 = np.radians(np.asarray(lon_b, dtype=float))[None, :]
    sin_la1, cos_la1 = np.sin(la1), np.cos(la1)
    sin_la2, cos_la2 = np.sin(la2), np.cos(la2)
    dlon = lo2 - lo1
    cos_d, sin_d = np.cos(dlon), np.sin(dlon)
    d = np.arctan2(
        np.sqrt((cos_la2 * sin_d) ** 2 + (cos_la1 * sin_la2 - sin_la1 * cos_la2 * cos_d) ** 2),
        sin_la1 * sin_la2 + cos_la1 * cos_la2 * cos_d,
    )
    return np.asarray(EARTH_RADIUS_MILES * d)


@dataclass(frozen=True)
class TravelModel:
    """Road miles and whole minutes between places.

    ``matrix`` maps (from_id, to_id) -> (miles, minutes) for a supplied travel.csv; without it
    (or for a pair it lacks) the contract's default model applies.
    """

    travel: Travel = field(default_factory=Travel)
    matrix: Mapping[tuple[str, str], tuple[float, int]] = field(default_factory=dict)

    def miles_from_great_circle(self, gc_miles: float) -> float:
        return gc_miles * self.travel.road_factor

    def minutes_for(self, road_miles: float) -> int:
        """ceil(road miles / speed x 60), the contract's formula on unrounded miles."""
        return int(math.ceil(road_miles / self.travel.speed_mph * 60.0))

    def journey(
        self,
        a: tuple[float, float],
        b: tuple[float, float],
        from_id: str | None = None,
        to_id: str | None = None,
    ) -> tuple[float, int]:
        """(road miles, minutes) from place a to place b."""
        if from_id is not None and to_id is not None and (from_id, to_id) in self.matrix:
            miles, minutes = self.matrix[(from_id, to_id)]
            return miles, minutes
        miles = self.miles_from_great_circle(great_circle_miles(a, b))
        return miles, self.minutes_for(miles)

    def journey_matrix(
        self, lat_a: np.ndarray, lon_a: np.ndarray, lat_b: np.ndarray, lon_b: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised default model: (road miles, minutes) arrays of shape (len(A), len(B))."""
        miles = great_circle_miles_matrix(lat_a, lon_a, lat_b, lon_b) * self.travel.road_factor
        minutes = np.ceil(miles / self.travel.speed_mph * 60.0).astype(np.int64)
        return miles, minutes


@dataclass(frozen=True)
class MemoTravel(TravelModel):
    """A travel model that remembers the default model's journeys: a check (R6 and R13), a carry
    or a first fit asks the same ones many times, and geopy's great circle is the slow part."""

    seen: dict[tuple[tuple[float, float], tuple[float, float]], tuple[float, int]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, model: TravelModel) -> MemoTravel:
        return model if isinstance(model, MemoTravel) else cls(model.travel, model.matrix)

    def journey(
        self,
        a: tuple[float, float],
        b: tuple[float, float],
        from_id: str | None = None,
        to_id: str | None = None,
    ) -> tuple[float, int]:
        if from_id is not None or to_id is not None:
            return super().journey(a, b, from_id, to_id)
        key = (a, b)
        found = self.seen.get(key)
        if found is None:
            found = self.seen[key] = super().journey(a, b)
        return found
