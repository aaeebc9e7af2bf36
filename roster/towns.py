"""Real towns of the English areas the seeds come from, for the synthetic generator.

Each town has approximate coordinates (WGS84, written from general knowledge rather than a
survey: expect them to be right to within a mile or two), a population weight (roughly the
town's population in thousands, so that carers and children cluster where people live) and the
local authority that commissions children's home care there. The areas are the three of the
seed specifications: Dorset (000), Cambridgeshire & Peterborough (002) and Milton Keynes (003).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Town:
    """A town or suburb a carer or a child can live in."""

    name: str
    lat: float
    lon: float
    weight: float
    """Relative population (about thousands of residents)."""
    council: str
    """The local authority commissioning social care there."""
    health: str
    """The NHS commissioner of continuing care (complex health needs) there."""


_DORSET = "Dorset Council"
_NHS_DORSET = "NHS Dorset"
_CCC = "Cambridgeshire County Council"
_PCC = "Peterborough City Council"
_NHS_CP = "NHS Cambridgeshire and Peterborough"
_MK = "Milton Keynes City Council"
_NHS_BLMK = "NHS Bedfordshire, Luton and Milton Keynes"


def _dorset(name: str, lat: float, lon: float, weight: float) -> Town:
    return Town(name, lat, lon, weight, _DORSET, _NHS_DORSET)


def _cambs(name: str, lat: float, lon: float, weight: float, council: str = _CCC) -> Town:
    return Town(name, lat, lon, weight, council, _NHS_CP)


def _mk(name: str, lat: float, lon: float, weight: float) -> Town:
    return Town(name, lat, lon, weight, _MK, _NHS_BLMK)


COUNTIES: dict[str, tuple[Town, ...]] = {
    # Dorset Council area (Bournemouth, Christchurch and Poole is a separate council; only its
    # Dorset-side outskirts such as Broadstone and Corfe Mullen are here).
    "Dorset": (
        _dorset("Dorchester", 50.7154, -2.4367, 21),
        _dorset("Weymouth", 50.6144, -2.4576, 53),
        _dorset("Portland", 50.5600, -2.4430, 12),
        _dorset("Crossways", 50.6930, -2.3180, 3),
        _dorset("Bridport", 50.7336, -2.7584, 14),
        _dorset("Lyme Regis", 50.7253, -2.9366, 4),
        _dorset("Beaminster", 50.8080, -2.7400, 3),
        _dorset("Sherborne", 50.9470, -2.5160, 10),
        _dorset("Sturminster Newton", 50.9260, -2.3050, 5),
        _dorset("Blandford Forum", 50.8563, -2.1640, 12),
        _dorset("Shaftesbury", 51.0055, -2.1980, 8),
        _dorset("Gillingham", 51.0383, -2.2755, 12),
        _dorset("Wimborne Minster", 50.7990, -1.9870, 15),
        _dorset("Ferndown", 50.8070, -1.8990, 26),
        _dorset("Verwood", 50.8810, -1.8740, 14),
        _dorset("Corfe Mullen", 50.7700, -2.0150, 10),
        _dorset("Broadstone (Poole outskirts)", 50.7550, -1.9950, 10),
        _dorset("Upton", 50.7350, -2.0300, 7),
        _dorset("Wareham", 50.6870, -2.1100, 6),
        _dorset("Wool", 50.6790, -2.2180, 5),
        _dorset("Swanage", 50.6083, -1.9600, 10),
    ),
    "Cambridgeshire": (
        _cambs("Peterborough (Central)", 52.5730, -0.2420, 60, _PCC),
        _cambs("Werrington", 52.6040, -0.2830, 25, _PCC),
        _cambs("Orton", 52.5500, -0.2900, 30, _PCC),
        _cambs("Hampton", 52.5370, -0.2680, 15, _PCC),
        _cambs("Bretton", 52.5880, -0.2900, 15, _PCC),
        _cambs("Cambridge", 52.2053, 0.1218, 145),
        _cambs("Huntingdon", 52.3310, -0.1830, 24),
        _cambs("St Neots", 52.2280, -0.2680, 34),
        _cambs("St Ives", 52.3330, -0.0750, 17),
        _cambs("Ramsey", 52.4500, -0.1070, 8),
        _cambs("Yaxley", 52.5140, -0.2600, 9),
        _cambs("Whittlesey", 52.5580, -0.1300, 17),
        _cambs("March", 52.5510, 0.0880, 22),
        _cambs("Chatteris", 52.4560, 0.0530, 11),
        _cambs("Wisbech", 52.6660, 0.1590, 31),
        _cambs("Ely", 52.3990, 0.2620, 20),
        _cambs("Soham", 52.3340, 0.3360, 11),
        _cambs("Cambourne", 52.2200, -0.0650, 12),
        _cambs("Sawston", 52.1230, 0.1690, 7),
    ),
    "Milton Keynes": (
        _mk("Central Milton Keynes", 52.0406, -0.7594, 40),
        _mk("Bletchley", 51.9950, -0.7360, 37),
        _mk("Fenny Stratford", 51.9990, -0.7160, 8),
        _mk("Wolverton", 52.0630, -0.8100, 12),
        _mk("Stony Stratford", 52.0570, -0.8540, 11),
        _mk("Bradwell", 52.0490, -0.7890, 9),
        _mk("Great Linford", 52.0660, -0.7680, 8),
        _mk("Newport Pagnell", 52.0870, -0.7220, 15),
        _mk("Olney", 52.1530, -0.7010, 7),
        _mk("Broughton", 52.0430, -0.6960, 10),
        _mk("Kingston", 52.0320, -0.6850, 8),
        _mk("Woburn Sands", 52.0160, -0.6520, 3),
        _mk("Westcroft", 52.0010, -0.8150, 10),
        _mk("Shenley Church End", 52.0240, -0.7970, 9),
        _mk("Netherfield", 52.0290, -0.7330, 7),
    ),
}
"""County -> its towns. Keys are the names ``generate(county=...)`` accepts."""

COUNTY_ALIASES: dict[str, str] = {
    "dorset": "Dorset",
    "cambridgeshire": "Cambridgeshire",
    "cambridgeshire and peterborough": "Cambridgeshire",
    "peterborough": "Cambridgeshire",
    "milton keynes": "Milton Keynes",
    "mk": "Milton Keynes",
}


COUNTY_NAMES: dict[str, str] = {
    "Dorset": "Dorset",
    "Cambridgeshire": "Cambridgeshire and Peterborough",
    "Milton Keynes": "Milton Keynes",
}
"""How each area is written in an instance's name."""


def county_towns(county: str) -> tuple[Town, ...]:
    """The towns of ``county`` (case-insensitive; ``Peterborough`` means Cambridgeshire).

    Raises ``ValueError`` naming the counties known when ``county`` is not one of them.
    """
    key = COUNTY_ALIASES.get(county.strip().lower())
    if key is None:
        known = ", ".join(sorted(COUNTIES))
        raise ValueError(f"county is {county!r}; it must be one of {known}.")
    return COUNTIES[key]
