"""Wall and open-boundary conditions for the kinetic transport (PHYSICS.md §4).

Each condition says what enters the domain, per velocity node with v·n < 0, given what leaves it.
They are data only; :mod:`dgkinetic.transport` applies them on the boundary facets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from dgkinetic.errors import InputError

__all__ = ["Specular", "Diffuse", "MaxwellWall", "Inflow", "Outflow", "make_wall", "WALL_KINDS"]


def _check_temperature(T, where):
    if not (isinstance(T, (int, float)) and math.isfinite(T) and T > 0):
        raise InputError(f"{where}: wall temperature must be a positive number, got {T!r}")
    return float(T)


@dataclass(frozen=True)
class Specular:
    """Mirror reflection f(v) = f(v − 2(v·n)n); conserves each species' mass and the energy."""

    kind = "specular"


@dataclass(frozen=True)
class Diffuse:
    """Re-emission with the wall Maxwellian (temperature, tangential velocity), zero net mass flux."""

    temperature: float = 1.0
    velocity: tuple = ()
    kind = "diffuse"

    def __post_init__(self):
        object.__setattr__(self, "temperature", _check_temperature(self.temperature, "diffuse wall"))
        object.__setattr__(self, "velocity", tuple(float(u) for u in self.velocity))


@dataclass(frozen=True)
class MaxwellWall:
    """Maxwell's condition: a fraction ``accommodation`` diffuse, the rest specular."""

    accommodation: float = 1.0
    temperature: float = 1.0
    velocity: tuple = ()
    kind = "maxwell"

    def __post_init__(self):
        a = self.accommodation
        if not (isinstance(a, (int, float)) and 0.0 <= a <= 1.0):
            raise InputError(f"Maxwell wall: accommodation must be in [0, 1], got {a!r}")
        object.__setattr__(self, "temperature", _check_temperature(self.temperature, "Maxwell wall"))
        object.__setattr__(self, "velocity", tuple(float(u) for u in self.velocity))


@dataclass(frozen=True)
class Inflow:
    """Prescribed incoming equilibrium: per-species density, one velocity and temperature."""

    density: tuple = (1.0,)
    velocity: tuple = ()
    temperature: float = 1.0
    kind = "inflow"

    def __post_init__(self):
        dens = tuple(float(n) for n in (self.density if isinstance(self.density, (list, tuple))
                                         else (self.density,)))
        if any(not (math.isfinite(n) and n > 0) for n in dens):
            raise InputError(f"inflow: densities must be positive, got {dens}")
        object.__setattr__(self, "density", dens)
        object.__setattr__(self, "temperature", _check_temperature(self.temperature, "inflow"))
        object.__setattr__(self, "velocity", tuple(float(u) for u in self.velocity))


@dataclass(frozen=True)
class Outflow:
    """Nothing is imposed: the upwind flux uses the interior trace for every velocity."""

    kind = "outflow"


WALL_KINDS = {"specular": Specular, "diffuse": Diffuse, "maxwell": MaxwellWall,
              "inflow": Inflow, "outflow": Outflow}


def make_wall(spec: dict):
    """Build a condition from a dict such as ``{"kind": "diffuse", "temperature": 2.0}``."""
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind not in WALL_KINDS:
        raise InputError(f"wall kind must be one of {sorted(WALL_KINDS)}, got {kind!r}")
    try:
        return WALL_KINDS[kind](**spec)
    except TypeError as e:
        raise InputError(f"{kind} wall: {e}") from None


