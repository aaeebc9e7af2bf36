"""Postcodes instead of lat/lon: offline by outward-code centroid, online only when asked.

``carers.csv``, ``children.csv`` and ``visits.csv`` may carry a ``postcode`` column and leave
``lat``/``lon`` blank. ``roster.io`` resolves such a row here:

* ``offline`` (the default): the centroid of the postcode's *outward code* (``DT1`` of
  ``DT1 1AA``) from a table of outward-code centroids. The table is a CSV
  ``outward,lat,lon`` found at ``$ROSTER_POSTCODE_TABLE`` or shipped as package data at
  ``roster/data/outward_codes.csv``. Without such a table, offline geocoding is unavailable
  and a row that needs it is reported as a problem naming file, row and field. roster ships
  no table (no openly licensed one could be derived here); build one from the ONS Postcode
  Directory (Open Government Licence) with
  ``python -m roster.geocode build-table ONSPD.csv outward_codes.csv``.
* ``online``: OpenStreetMap's Nominatim through geopy, one request a second (its usage
  policy), results cached for the run. Only when the user opts in (``--geocode online``),
  since it sends postcodes over the internet.

An outward-code centroid is within a mile or two of any address in it: good enough for the
default travel model (great-circle x road factor), not for door-to-door routing.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

# Outward code: area letters, district digit(s), optional letter; inward: digit + two letters.
_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_INWARD = r"[0-9][A-Z]{2}"
_FULL_RE = re.compile(rf"^({_OUTWARD}) ?({_INWARD})$")
_OUTWARD_RE = re.compile(rf"^({_OUTWARD})$")

PACKAGED_TABLE = Path(__file__).with_name("data") / "outward_codes.csv"
TABLE_ENV = "ROSTER_POSTCODE_TABLE"


class GeocodeError(ValueError):
    """A postcode that cannot be resolved; the message completes a ``Problem`` sentence."""


def outward_code(postcode: str) -> str:
    """The outward code of a full UK postcode or of an outward code alone (``dt1 1aa`` -> ``DT1``)."""
    text = re.sub(r"\s+", " ", postcode.strip().upper())
    match = _FULL_RE.match(text) or _FULL_RE.match(text.replace(" ", ""))
    if match:
        return match.group(1)
    match = _OUTWARD_RE.match(text)
    if match:
        return match.group(1)
    raise GeocodeError("it is not a UK postcode (like DT1 1AA, or an outward code like DT1).")


def normalise_postcode(postcode: str) -> str:
    """``dt11aa`` -> ``DT1 1AA``; an outward code alone stays as it is."""
    text = postcode.strip().upper().replace(" ", "")
    outward = outward_code(text)
    inward = text[len(outward) :]
    return f"{outward} {inward}" if inward else outward


@dataclass(frozen=True)
class CentroidTable:
    """Outward code -> (lat, lon)."""

    centroids: Mapping[str, tuple[float, float]]
    source: str

    def lookup(self, postcode: str) -> tuple[float, float]:
        outward = outward_code(postcode)
        if outward not in self.centroids:
            raise GeocodeError(
                f"its outward code {outward} is not in the offline postcode table ({self.source}); "
                "give lat and lon, or use --geocode online."
            )
        return self.centroids[outward]


def read_centroid_table(path: Path) -> CentroidTable:
    """Read an ``outward,lat,lon`` CSV (extra columns ignored, ``#`` lines are comments)."""
    centroids: dict[str, tuple[float, float]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if line.strip() and not line.lstrip().startswith("#"))
        for row in csv.DictReader(lines):
            try:
                code = row["outward"].strip().upper()
                lat, lon = float(row["lat"]), float(row["lon"])
            except (KeyError, ValueError, AttributeError, TypeError):
                continue
            if code and math.isfinite(lat) and math.isfinite(lon):
                centroids[code] = (lat, lon)
    return CentroidTable(centroids, path.name)


@lru_cache(maxsize=4)
def _cached_table(path: str, mtime: float) -> CentroidTable:
    return read_centroid_table(Path(path))


def offline_table() -> CentroidTable | None:
    """The installed outward-code table (``$ROSTER_POSTCODE_TABLE`` first), or ``None``."""
    for candidate in (os.environ.get(TABLE_ENV), PACKAGED_TABLE):
        if candidate and Path(candidate).is_file():
            path = Path(candidate)
            return _cached_table(str(path.resolve()), path.stat().st_mtime)
    return None


@dataclass
class OnlineGeocoder:
    """geopy Nominatim, rate-limited to one request a second and cached per instance of this class."""

    user_agent: str = "roster-rostering (home care for disabled children)"
    timeout: float = 10.0
    cache: dict[str, tuple[float, float]] = field(default_factory=dict)
    _geocode: Callable[..., Any] | None = None

    def __call__(self, postcode: str) -> tuple[float, float]:
        key = normalise_postcode(postcode)
        if key in self.cache:
            return self.cache[key]
        if self._geocode is None:
            from geopy.extra.rate_limiter import RateLimiter
            from geopy.geocoders import Nominatim

            locator = Nominatim(user_agent=self.user_agent, timeout=self.timeout)
            self._geocode = RateLimiter(locator.geocode, min_delay_seconds=1.0, max_retries=1)
        try:
            location = self._geocode(
                {"postalcode": key, "country": "United Kingdom"}, country_codes="gb"
            )
        except Exception as exc:  # geopy raises GeocoderServiceError, timeouts, network errors
            raise GeocodeError(
                f"the online geocoder failed ({type(exc).__name__}: {exc})."
            ) from exc
        if location is None:
            raise GeocodeError("the online geocoder does not know it.")
        point = (float(location.latitude), float(location.longitude))
        self.cache[key] = point
        return point


def make_geocoder(
    mode: str, table_path: str | os.PathLike[str] | None = None
) -> Callable[[str], tuple[float, float]] | None:
    """A postcode -> (lat, lon) function for ``mode`` (``offline``/``online``), or ``None``.

    ``table_path`` names an ``outward,lat,lon`` CSV to use offline (it must exist); without it
    the installed table is used. ``offline`` without any table returns a function that explains
    the table is missing, so the row is reported with that reason.
    """
    if mode == "online":
        return OnlineGeocoder()
    if mode == "offline":
        if table_path is not None:
            path = Path(table_path)
            if not path.is_file():
                raise FileNotFoundError(2, "No such postcode table", str(path))
            return _cached_table(str(path.resolve()), path.stat().st_mtime).lookup
        table = offline_table()
        if table is None:

            def unavailable(postcode: str) -> tuple[float, float]:
                outward_code(postcode)  # a malformed postcode says so first
                raise GeocodeError(
                    "lat and lon are blank and no offline postcode table is installed; "
                    "give lat and lon, or use --geocode online."
                )

            return unavailable
        return table.lookup
    return None


# ---- building the offline table -------------------------------------------------------------


def build_centroid_table(
    source: str | os.PathLike[str], target: str | os.PathLike[str], decimals: int = 4
) -> int:
    """Average a postcode directory into an ``outward,lat,lon`` table; returns its row count.

    ``source`` is a CSV with one row per postcode and columns for the postcode (``pcds``,
    ``pcd`` or ``postcode``) and its coordinates (``lat`` and ``long``/``lon``/``longitude``),
    such as the ONS Postcode Directory (Open Government Licence). Rows without a grid
    reference (ONSPD writes latitude 99.999999) or outside the UK are skipped. The result is
    what ``--postcode-table`` and ``$ROSTER_POSTCODE_TABLE`` take.
    """
    from roster.atomic import atomic_write_text

    sums: dict[str, list[float]] = {}
    with open(source, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = {name.strip().lower(): name for name in reader.fieldnames or ()}
        code_col = next((fields[c] for c in ("pcds", "pcd", "postcode") if c in fields), None)
        lat_col = next((fields[c] for c in ("lat", "latitude") if c in fields), None)
        lon_col = next((fields[c] for c in ("long", "lon", "longitude") if c in fields), None)
        if code_col is None or lat_col is None or lon_col is None:
            raise ValueError(
                f"{Path(source).name}: it needs a postcode column (pcds, pcd or postcode) and "
                "lat and long columns."
            )
        for row in reader:
            try:
                outward = outward_code(row[code_col] or "")
                lat, lon = float(row[lat_col]), float(row[lon_col])
            except (GeocodeError, ValueError, TypeError):
                continue
            if not (49.8 <= lat <= 60.9 and -8.7 <= lon <= 1.8):
                continue
            total = sums.setdefault(outward, [0.0, 0.0, 0.0])
            total[0] += lat
            total[1] += lon
            total[2] += 1
    lines = ["outward,lat,lon"]
    for outward in sorted(sums):
        lat_sum, lon_sum, count = sums[outward]
        lines.append(
            f"{outward},{round(lat_sum / count, decimals)},{round(lon_sum / count, decimals)}"
        )
    atomic_write_text(target, "\n".join(lines) + "\n")
    return len(lines) - 1


def main(argv: list[str] | None = None) -> int:
    """``python -m roster.geocode build-table POSTCODES.csv OUT.csv``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m roster.geocode",
        description="Build the offline outward-code centroid table from a postcode directory.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build-table", help="average postcodes into outward-code centroids")
    build.add_argument("source", help="a postcode CSV (e.g. the ONS Postcode Directory)")
    build.add_argument("target", help="the outward,lat,lon CSV to write")
    args = parser.parse_args(argv)
    try:
        count = build_centroid_table(args.source, args.target)
    except (OSError, ValueError) as exc:
        print(f"roster.geocode: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.target}: {count} outward codes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
