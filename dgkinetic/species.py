"""Particle species: mass, statistics and the parameters collision kernels need."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from dgkinetic.errors import InputError

__all__ = ["Species", "STATISTICS"]

#: statistics name -> alpha in tau(f) = 1 + alpha f (PHYSICS.md §1)
STATISTICS = {"maxwell": 0, "bose": 1, "fermi": -1}


def _positive(name: str, what: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0.0:
        raise InputError(f"species '{name}': {what} must be a positive finite number, got {value}")
    return value


@dataclass(frozen=True)
class Species:
    """One particle species.

    Parameters
    ----------
    name
        Identifier used in output and case files.
    mass
        Particle mass m_i (> 0), in the run's mass unit.
    statistics
        ``"maxwell"``, ``"bose"`` or ``"fermi"``.
    diameter
        Hard-sphere / VHS diameter d_i (> 0), used by hard-sphere Boltzmann kernels.
    charge
        Charge number Z_i, used by the Coulomb Landau kernel.

    Raises
    ------
    InputError
        For a non-positive or non-finite mass or diameter, or an unknown statistics.
    """

    name: str
    mass: float = 1.0
    statistics: str = "maxwell"
    diameter: float = 1.0
    charge: float = 1.0
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise InputError("species name must be a non-empty string")
        object.__setattr__(self, "mass", _positive(self.name, "mass", self.mass))
        object.__setattr__(self, "diameter", _positive(self.name, "diameter", self.diameter))
        if self.statistics not in STATISTICS:
            raise InputError(f"species '{self.name}': statistics must be one of "
                             f"{sorted(STATISTICS)}, got {self.statistics!r}")
        if not math.isfinite(float(self.charge)):
            raise InputError(f"species '{self.name}': charge must be finite")

    @property
    def alpha(self) -> int:
        """alpha_i of tau_i(f) = 1 + alpha_i f: 0 Maxwell, +1 Bose, -1 Fermi."""
        return STATISTICS[self.statistics]

    def thermal_speed(self, temperature: float) -> float:
        """sqrt(T / m_i), the standard deviation of one velocity component at temperature T."""
        return math.sqrt(temperature / self.mass)
