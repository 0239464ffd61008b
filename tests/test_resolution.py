"""The resolution check measures collision rates: it flags the grid the old check passed (a
Landau-Maxwell mixture 19.5 % off on 8 cells of degree 2) and clears a resolved one."""
import math

import pytest

from dgkinetic import Mixture, Species, VelocityGrid
from dgkinetic.collisions.landau import Landau
from dgkinetic.equilibrium import check_resolution
from dgkinetic.resolution import EXCHANGE_TOLERANCE, exchange_rate_error


def landau_mixture(cells, degree, potential="maxwell"):
    species = [Species("a", mass=1.0), Species("b", mass=4.0)]
    grids = [VelocityGrid(2, cells, degree, extent=6.0, scale=s.thermal_speed(1.0), continuous=True)
             for s in species]
    return Landau(Mixture(species, grids), potential), species, grids


@pytest.mark.parametrize("potential", ["maxwell", -1.0])
def test_coarse_grid_is_measured_wrong_and_fine_grid_right(potential):
    temperatures = [2.0, 0.5]
    coarse, species, grids = landau_mixture(8, 2, potential)
    for s, g, T in zip(species, grids, temperatures):      # the old check passes this grid
        check_resolution(g, s, [0.0, 0.0], T)
    e_coarse = exchange_rate_error(coarse, temperatures)
    e_fine = exchange_rate_error(landau_mixture(12, 3, potential)[0], temperatures)
    assert e_coarse > EXCHANGE_TOLERANCE, e_coarse
    assert e_fine < 0.1 * EXCHANGE_TOLERANCE, e_fine


def test_single_species_has_no_exchange_to_measure():
    s = Species("a")
    op = Landau(Mixture([s], [VelocityGrid(2, 4, 2, extent=5.0, continuous=True)]))
    assert exchange_rate_error(op, [1.0]) is None
    assert math.isfinite(exchange_rate_error(landau_mixture(6, 2)[0], [1.0, 1.0]))


def test_case_check_reports_an_unresolved_exchange(tmp_path):
    """`dgkinetic check` of a two-temperature Landau mixture on a coarse grid says, in one line,
    how far its exchange rates are off; on a resolved grid it says nothing of the kind."""
    import os
    import subprocess
    import sys
    case = """
[run]
output = "{out}"
t_end = 0.1
dt = 0.01
[mesh]
kind = "interval"
cells = 2
[velocity]
cells = {cells}
degree = {degree}
extent = 6.0
continuous = true
[[species]]
name = "a"
[[species]]
name = "b"
mass = 4.0
[initial]
temperature = [2.0, 0.5]
[walls.1]
kind = "specular"
[walls.2]
kind = "specular"
[[collisions]]
operator = "landau"
"""
    messages = {}
    for cells, degree in ((8, 2), (12, 3)):
        path = tmp_path / f"case{cells}.toml"
        path.write_text(case.format(out=tmp_path / "out", cells=cells, degree=degree))
        r = subprocess.run([sys.executable, "-m", "dgkinetic.cli", "check", str(path)], capture_output=True,
                           text=True, timeout=600, env=dict(os.environ, OMP_NUM_THREADS="1"))
        assert r.returncode == 0, r.stderr
        messages[cells] = [line for line in r.stderr.splitlines() if "resolve the momentum/energy" in line]
    assert len(messages[8]) == 1 and messages[12] == [], messages
