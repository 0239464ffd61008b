"""Diagnostics.species_table: the species temperature uses the physical velocity dimension."""
import pytest

from dgkinetic import Mixture, Species, VelocityGrid, equilibrium
from dgkinetic.axisymmetric import AxisymmetricGrid
from dgkinetic.diagnostics import Diagnostics
from dgkinetic.moments import temperature
from dgkinetic.phase_space import homogeneous_phase_space


@pytest.mark.parametrize("kind", ["axisymmetric", "cartesian"])
def test_species_temperature_matches_moments(kind):
    """At T = 1.3 with a parallel drift, the table reports the temperature of moments.temperature
    (an axisymmetric grid stores 2 coordinates of a 3V velocity: dividing by 2 instead of 3 gives 1.95)."""
    s = Species("e", 1.0)
    if kind == "axisymmetric":
        grid = AxisymmetricGrid(4, 2, extent=6.0, scale=s.thermal_speed(1.0))
        u = [0.0, 0.4]
    else:
        grid = VelocityGrid(2, 6, 2, extent=6.0, scale=s.thermal_speed(1.0))
        u = [0.3, -0.2]
    phase = homogeneous_phase_space(Mixture([s], [grid]))
    X = equilibrium(grid, s, 1.0, u, 1.3)[None, :]
    assert temperature(X, grid, s)[0] == pytest.approx(1.3, rel=1e-10)
    table = Diagnostics(phase).species_table(X)
    assert table["temperature_e"] == pytest.approx(1.3, rel=1e-10)
    assert table["mass_e"] == pytest.approx(1.0, rel=1e-10)
