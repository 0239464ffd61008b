"""The exact Euler Riemann solver: outer fronts of Sod's problem (γ = 1.4, Toro Table 4.2)."""
import math

import numpy as np
import pytest

from dgkinetic.reference.riemann import euler_riemann, outer_wave_speeds


def test_outer_wave_speeds_bound_the_disturbed_region():
    """Sod: a left rarefaction whose head moves at −c_L = −√1.4 and a right shock at 1.75216 (Toro,
    Riemann Solvers, §4.3.3); the solution equals the initial states outside [s_L t, s_R t] and
    differs from them just inside."""
    left, right, gamma = (1.0, 0.0, 1.0), (0.125, 0.0, 0.1), 1.4
    s_left, s_right = outer_wave_speeds(left, right, gamma)
    assert s_left == pytest.approx(-math.sqrt(1.4), rel=1e-14)
    assert s_right == pytest.approx(1.75216, abs=1e-5)
    eps = 1e-6
    rho, u, p = euler_riemann(np.array([s_left - eps, s_left + 1e-3, s_right - eps, s_right + eps]),
                              left, right, gamma)
    assert (rho[0], u[0], p[0]) == (1.0, 0.0, 1.0) and (rho[3], u[3], p[3]) == (0.125, 0.0, 0.1)
    assert rho[1] < 1.0 - 1e-4 and u[1] > 1e-4                   # inside the fan
    assert rho[2] > 0.25 and u[2] > 0.9                          # behind the shock
