"""Closed forms of flows between parallel walls: mean free paths, hard-sphere transport coefficients,
free-molecular fluxes between diffuse walls and the Navier–Stokes stress with slip.

Units: k_B = 1; wall temperature T, density n, molecular mass m and diameter d as given.

- mean free path of hard disks (2D, total cross-section 2d) or spheres (3D, πd²): λ = 1/(√2 n σ_tot);
- first Chapman–Enskog (first Sonine) viscosity and conductivity of hard spheres,
  μ₁ = (5/16) √(mT/π)/d², κ₁ = (75/64) √(T/(πm))/d² (Chapman & Cowling, *The Mathematical Theory of
  Non-uniform Gases*, 3rd ed., 1970, ch. 10, rigid elastic spheres), and of hard disks,
  μ₁ = √(mT/π)/(2d), κ₁ = 2√(T/(πm))/d (the same variational approximation in 2D; D. M. Gass,
  J. Chem. Phys. 54, 1898 (1971)); the exact hard-sphere viscosity is μ = 1.016034 μ₁ (Chapman &
  Cowling, ch. 10);
- the hard-sphere slip length ζ = 1.2540 (√π/2) λ = 1.1113 λ (Ohwada, Sone & Aoki, Phys. Fluids A 1
  (1989) 1588) and temperature-jump length ζ_T = 2.4001 (√π/2) λ = 2.1270 λ (Sone, Ohwada & Aoki,
  Phys. Fluids A 1 (1989) 363); the exact hard-sphere conductivity κ = 1.025218 κ₁ (Chapman &
  Cowling, ch. 10);
- free-molecular fluxes between diffuse walls: :func:`free_molecular_shear_stress`,
  :func:`free_molecular_heat_flux`; the exact discrete free-molecular state of a velocity grid,
  :func:`free_molecular_state`.
"""
from __future__ import annotations

import math

import numpy as np

from dgkinetic.errors import InputError

__all__ = ["mean_free_path", "rate_for_knudsen", "hard_sphere_viscosity", "hard_sphere_conductivity",
           "free_molecular_shear_stress", "free_molecular_heat_flux", "free_molecular_state",
           "couette_stress_navier_stokes",
           "fourier_heat_flux_navier_stokes", "HARD_SPHERE_VISCOSITY_RATIO", "HARD_SPHERE_SLIP_LENGTH",
           "HARD_SPHERE_CONDUCTIVITY_RATIO", "HARD_SPHERE_JUMP_LENGTH"]

#: exact over first-Sonine viscosity of hard spheres (Chapman & Cowling, ch. 10)
HARD_SPHERE_VISCOSITY_RATIO = 1.016034
#: slip length of hard spheres between diffuse walls, in mean free paths (Ohwada, Sone & Aoki 1989)
HARD_SPHERE_SLIP_LENGTH = 1.2540 * math.sqrt(math.pi) / 2
#: exact over first-Sonine thermal conductivity of hard spheres (Chapman & Cowling, ch. 10)
HARD_SPHERE_CONDUCTIVITY_RATIO = 1.025218
#: temperature-jump length of hard spheres at a diffuse wall, in mean free paths (Sone, Ohwada & Aoki 1989)
HARD_SPHERE_JUMP_LENGTH = 2.4001 * math.sqrt(math.pi) / 2


def mean_free_path(density: float, diameter: float, dim: int) -> float:
    """λ = 1/(√2 n σ_tot), σ_tot = 2d (hard disks, dim 2) or πd² (hard spheres, dim 3)."""
    cross_section = 2.0 * diameter if dim == 2 else math.pi * diameter ** 2
    return 1.0 / (math.sqrt(2.0) * density * cross_section)


def rate_for_knudsen(knudsen: float, length: float, density: float, diameter: float, dim: int) -> float:
    """Collision rate r (the factor on the hard-sphere operator) giving λ/L = ``knudsen``.

    The rate multiplies the cross-section, so λ(r) = λ(1)/r.
    """
    if not (math.isfinite(knudsen) and knudsen > 0):
        raise InputError(f"Knudsen number must be positive and finite, got {knudsen}")
    return mean_free_path(density, diameter, dim) / (knudsen * length)


def hard_sphere_viscosity(mass: float, temperature: float, diameter: float, dim: int) -> float:
    """First Chapman–Enskog viscosity of hard disks (dim 2) or hard spheres (dim 3)."""
    root = math.sqrt(mass * temperature / math.pi)
    return root / (2.0 * diameter) if dim == 2 else 5.0 / 16.0 * root / diameter ** 2


def hard_sphere_conductivity(mass: float, temperature: float, diameter: float, dim: int) -> float:
    """First Chapman–Enskog thermal conductivity of hard disks (dim 2) or hard spheres (dim 3)."""
    root = math.sqrt(temperature / (math.pi * mass))
    return 2.0 * root / diameter if dim == 2 else 75.0 / 64.0 * root / diameter ** 2


def free_molecular_shear_stress(density: float, wall_speed: float, temperature: float, mass: float) -> float:
    """P_xy between diffuse walls at one temperature moving at −U/2 (x = 0) and +U/2 (x = L).

    Molecules going right (v_x > 0) left the wall at x = 0 with its Maxwellian, those going left the
    wall at x = L; zero net number flux at each wall gives each half-range the density n (the mean
    density). Then P_xy = m n ∫_{v_x>0} v_x M dv_x (u_0 − u_L) = −n U √(mT/(2π)), in any velocity
    dimension (the other components integrate out) and for any U (a drifting Maxwellian has mean
    tangential velocity exactly its drift).
    """
    return -density * wall_speed * math.sqrt(mass * temperature / (2 * math.pi))


def free_molecular_heat_flux(density: float, t_left: float, t_right: float, mass: float, dim: int) -> float:
    """q_x between stationary diffuse walls at T₀ (x = 0) and T_L (x = L), one species.

    With f = a₀ M_{T₀} for v_x > 0 and a_L M_{T_L} for v_x < 0 (normalised Maxwellians), zero net
    number flux gives a₀√T₀ = a_L√T_L and the mean density n = (a₀ + a_L)/2. A half-range Maxwellian
    carries the energy flux ∫_{v_x>0} v_x m|v|²/2 M_T dv = (d+1)/2 · T √(T/(2πm)), so

        q_x = (d+1) n (T₀ − T_L) √(T₀T_L) / ((√T₀ + √T_L) √(2πm)).

    For a mixture the species add (each species' molecules fly independently).
    """
    r0, rL = math.sqrt(t_left), math.sqrt(t_right)
    return (dim + 1) * density * (t_left - t_right) * r0 * rL / ((r0 + rL) * math.sqrt(2 * math.pi * mass))


def free_molecular_state(grid, left, right, mass: float = 1.0, density: float = 1.0) -> np.ndarray:
    """The exact discrete steady state of a collisionless gas between two diffuse walls.

    Without collisions a molecule going right (v_x > 0) last left the wall at x = 0 and one going
    left the wall at x = L, each with its wall's Maxwellian, so the steady state is uniform in x:

        f(v) = a₀ M₀(v) for v_x > 0,        f(v) = a_L M_L(v) for v_x < 0,

    M_w(v) = exp(−m|v − u_w|²/(2T_w)) the unnormalised Maxwellian of wall w's temperature T_w and
    velocity u_w. A diffuse wall re-emits what it receives, zero net number flux through each wall,

        a₀ Σ_{v_x>0} W v_x M₀ = a_L Σ_{v_x<0} W |v_x| M_L,

    and the mean number density n̄ = a₀ Σ_{v_x>0} W M₀ + a_L Σ_{v_x<0} W M_L fixes the scale. The sums
    are the grid's own quadrature (weights W), so this is the exact steady state of the discretised
    equation (the DG transport holds a state constant in x exactly), not only its limit under velocity
    refinement; its moments tend to :func:`free_molecular_shear_stress` and
    :func:`free_molecular_heat_flux` as the grid is refined.

    Parameters
    ----------
    grid : VelocityGrid
        One species' velocity grid: ``nodes`` (n_v, d) and ``weights`` (n_v,). No node may have
        v_x = 0 (such molecules never reach a wall, so the walls do not set them).
    left, right : Diffuse
        The walls at x = 0 and x = L: ``temperature`` and ``velocity`` (its first components; the
        rest are 0).
    mass : float
        Molecular mass m.
    density : float
        Mean number density n̄ (the number in the channel over its length).

    Returns
    -------
    ndarray, shape (n_v,)
        f at the velocity nodes, the same at every point of the channel.
    """
    v, W = np.asarray(grid.nodes, dtype=float), np.asarray(grid.weights, dtype=float)
    vx = v[:, 0]
    if np.any(vx == 0.0):
        raise InputError("free_molecular_state: the grid has nodes with v_x = 0, which no wall sets")
    going, coming = vx > 0, vx < 0

    def maxwellian(wall):
        uw = np.zeros(v.shape[1])
        uw[:len(wall.velocity)] = wall.velocity
        return np.exp(-mass * np.sum((v - uw) ** 2, axis=1) / (2 * wall.temperature))

    M0, ML = maxwellian(left), maxwellian(right)
    ratio = np.sum((W * vx * M0)[going]) / np.sum((W * -vx * ML)[coming])          # a_L / a₀
    a0 = density / (np.sum((W * M0)[going]) + ratio * np.sum((W * ML)[coming]))
    return np.where(going, a0 * M0, a0 * ratio * ML)


def couette_stress_navier_stokes(knudsen, slip: bool = True):
    """P_xy/P_xy^FM of 3D hard spheres by Navier–Stokes with the exact hard-sphere viscosity: (5π/8)(μ/μ₁) Kn,
    divided by 1 + 2ζ/L with the hard-sphere slip length if ``slip`` (accurate to O(Kn²); the Couette
    stress has no Knudsen-layer correction at first order). Works on arrays of Kn."""
    ratio = 5 * math.pi / 8 * HARD_SPHERE_VISCOSITY_RATIO * knudsen
    return ratio / (1 + 2 * HARD_SPHERE_SLIP_LENGTH * knudsen) if slip else ratio


def fourier_heat_flux_navier_stokes(knudsen: float, t_left: float, t_right: float, jump: bool = True) -> float:
    """q_x of 3D hard spheres at rest between diffuse walls at T₀ (x = 0) and T_L (x = L) by Fourier's
    law with the exact hard-sphere conductivity, κ(T) = 1.025218 κ₁(T) ∝ √T, and (if ``jump``) the
    hard-sphere temperature jump at each wall; accurate to O(Kn²) (the heat flux has no Knudsen-layer
    correction at first order). Units: L = 1, mean density 1, m = 1, k_B = 1, Kn = λ/L at the mean
    density (the diameter follows from it: πd² = 1/(√2 Kn)).

    Fourier's law at uniform pressure p: κ(T) dT/dx = −q, so (2/3)K (T_b^{3/2} − T_a^{3/2}) = −q with
    κ = K√T and T_a, T_b the gas temperatures at the walls; the number, ∫ p/T dx = 1, gives
    p = −q/(2K(√T_b − √T_a)); the jumps T_a − T₀ = ζ_T(a) dT/dx|₀ and T_L − T_b = ζ_T(b) dT/dx|_L,
    with ζ_T = 2.1270 λ and the local λ = Kn T/p (∝ 1/n). Solved for (log T_a, log T_b) by Powell's
    hybrid method (MINPACK, scipy.optimize.fsolve)."""
    from scipy.optimize import fsolve
    if not (math.isfinite(knudsen) and knudsen > 0):
        raise InputError(f"Knudsen number must be positive and finite, got {knudsen}")
    if not (t_left > 0 and t_right > 0) or t_left == t_right:
        raise InputError(f"wall temperatures must be positive and different, got {t_left}, {t_right}")
    d2 = 1.0 / (math.sqrt(2.0) * math.pi * knudsen)                     # d² from λ = 1/(√2 π d² n), n = 1
    K = HARD_SPHERE_CONDUCTIVITY_RATIO * hard_sphere_conductivity(1.0, 1.0, math.sqrt(d2), 3)

    def flux_and_pressure(ta, tb):
        q = -2.0 / 3.0 * K * (tb ** 1.5 - ta ** 1.5)
        return q, -q / (2.0 * K * (math.sqrt(tb) - math.sqrt(ta)))

    def residual(log_t):                                                 # in log T: stays positive
        ta, tb = np.exp(log_t)
        q, p = flux_and_pressure(ta, tb)
        if not jump:
            return [ta - t_left, tb - t_right]
        za, zb = HARD_SPHERE_JUMP_LENGTH * knudsen * ta / p, HARD_SPHERE_JUMP_LENGTH * knudsen * tb / p
        return [ta - t_left + za * q / (K * math.sqrt(ta)), t_right - tb + zb * q / (K * math.sqrt(tb))]

    log_t, _, status, message = fsolve(residual, np.log([t_left, t_right]), xtol=1e-12, full_output=True)
    if status != 1:
        raise InputError(f"Fourier's law with jump has no solution at Kn = {knudsen:g} (a first-order "
                         f"theory: Kn ≪ 1): {message}")
    ta, tb = np.exp(log_t)
    return float(flux_and_pressure(ta, tb)[0])
