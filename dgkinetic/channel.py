"""Plane channel: a gas between two parallel walls, driven to its steady state (Couette, Fourier).

Space is the gap 0 ≤ x ≤ L (an interval mesh; boundary id 1 is the wall at x = 0, id 2 the wall at
x = L); velocity is 2D or 3D. :class:`Channel` advances the kinetic equation by Strang splitting,

    f ← C(Δ/2) T(Δ) C(Δ/2) f,

the stepper of :mod:`dgkinetic.splitting` (T the free transport with walls, substepped at its CFL
step; C the collisions alone), and measures what crosses the walls. :meth:`Channel.solve_steady`
skips the time march: it solves the unsplit steady equation directly (:mod:`dgkinetic.steady`,
Newton–Krylov with a transport-sweep preconditioner), so its steady state has no splitting error.

The closed forms the channel demos compare against (mean free paths, hard-sphere transport
coefficients, free-molecular fluxes, the Navier–Stokes stress with slip) are in
:mod:`dgkinetic.reference.channel_flow`; :func:`sonine_transport_coefficients` evaluates the
first-Sonine (variational) transport coefficients with a discrete collision operator, which checks
the operator against them.
"""
from __future__ import annotations

import math

import numpy as np

import firedrake as fd
from dgkinetic.errors import InputError
from dgkinetic.mixture import Mixture
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.solver import KineticProblem
from dgkinetic.splitting import StrangSplitting, stable_collision_step
from dgkinetic.walls import Diffuse

# stable_collision_step lives in dgkinetic.splitting; still importable from here
__all__ = ["Channel", "sonine_transport_coefficients", "stable_collision_step"]


def sonine_transport_coefficients(operator, temperature: float = 1.0, density: float = 1.0) -> tuple:
    """(μ, κ) of a one-species collision operator in the first Sonine (variational) approximation.

    μ = (m²/T) ⟨ψ,ψ⟩²/D[ψ] with ψ = c_x c_y, and κ = ⟨φ,φ⟩²/D[φ] with φ = c_x(m|c|²/(2T) − (d+2)/2),
    where ⟨a, b⟩ = Σ W M a b and D[q] = M_h(M)[q, q] is the collision bracket at the equilibrium M
    (the Chapman–Enskog equation L h = source, solved in the one-function trial space). With the
    exact operator these are :func:`~dgkinetic.reference.channel_flow.hard_sphere_viscosity` and
    :func:`~dgkinetic.reference.channel_flow.hard_sphere_conductivity`;
    with a discrete operator they measure its transport coefficients on its grid.

    Parameters
    ----------
    operator : CollisionOperator
        A one-species operator providing ``dissipative_bracket``.
    temperature, density : float
        Temperature T and number density of the equilibrium M (at rest).

    Returns
    -------
    tuple of float
        (μ, κ): the first-Sonine viscosity and thermal conductivity.
    """
    from dgkinetic.equilibrium import equilibrium
    mix = operator.mixture
    if len(mix) != 1:
        raise InputError("sonine_transport_coefficients: give a one-species operator")
    s, g = mix.species[0], mix.grids[0]
    M = equilibrium(g, s, density, np.zeros(g.dim), temperature)
    c = g.nodes
    c2 = np.sum(c ** 2, axis=1)
    psi = c[:, 0] * c[:, 1]
    phi = c[:, 0] * (s.mass * c2 / (2 * temperature) - (g.dim + 2) / 2)
    out = []
    for q, factor in ((psi, s.mass ** 2 / temperature), (phi, 1.0)):
        D = operator.dissipative_bracket(M[None], q[None], q[None])[0]
        out.append(factor * np.sum(g.weights * M * q * q) ** 2 / D)
    return tuple(out)


# ---------------------------------------------------------------------------------- the channel
class Channel:
    """A mixture between two diffuse walls, stepped by Strang splitting
    (:class:`~dgkinetic.splitting.StrangSplitting`).

    Serial: the wall fluxes and profiles are those of the rank's own nodes.

    Parameters
    ----------
    mixture
        Species and velocity grids.
    left, right
        The walls at x = 0 and x = L (:class:`~dgkinetic.walls.Diffuse`).
    cells, degree, length
        Interval mesh of the gap and the DG degree p_x in space.
    initial
        (density, velocity, temperature) per species, as for
        :meth:`~dgkinetic.phase_space.PhaseSpace.local_equilibrium` (callables of x allowed).
    collisions
        ``(operator, rate)`` pairs; empty for a free-molecular (collisionless) channel.
    collision_step
        Largest Δ of the splitting (default 0.1); the step used, :attr:`step`, is also at most
        :func:`~dgkinetic.splitting.stable_collision_step` of the initial state (ignored without
        collisions).
    cfl
        Fraction of the transport limit h/((2p+1) max|v_x|) used as the substep.

    Attributes
    ----------
    splitting : StrangSplitting
        The time stepper; its transport solver holds the state.
    """

    def __init__(self, mixture: Mixture, left: Diffuse, right: Diffuse, *, cells: int, degree: int = 1,
                 length: float = 1.0, initial, collisions=(), collision_step: float = 0.1,
                 cfl: float = 0.9):
        if not (isinstance(cells, int) and cells >= 1):
            raise InputError(f"channel: cells must be a positive integer, got {cells!r}")
        if not (math.isfinite(length) and length > 0):
            raise InputError(f"channel: length must be positive, got {length}")
        if not 0 < cfl <= 1:
            raise InputError(f"channel: cfl must be in (0, 1], got {cfl}")
        if not (math.isfinite(collision_step) and collision_step > 0):
            raise InputError(f"channel: collision_step must be positive, got {collision_step}")
        self.mixture, self.length = mixture, float(length)
        self.collisions = list(collisions)
        self.phase = PhaseSpace(fd.IntervalMesh(cells, length), mixture, degree=degree)
        self._flux_sum, self._flux_time, self._last_t, self._last_flux = None, 0.0, 0.0, None
        vmax = float(np.max(np.abs(mixture.velocities[:, 0])))
        #: the stepper: Strang splitting of transport with the two walls and the collisions
        self.splitting = StrangSplitting(
            self.phase, self.phase.local_equilibrium(*initial), walls={1: left, 2: right},
            collisions=self.collisions, transport_step=cfl * (length / cells) / ((2 * degree + 1) * vmax),
            collision_step=collision_step, monitors=[self._accumulate_fluxes])

    @property
    def rows(self) -> np.ndarray:
        """Current state, owned rows (n_nodes, mixture.size)."""
        return self.splitting.rows

    @property
    def transport(self):
        """The free transport with the two walls (:class:`~dgkinetic.transport.Transport`)."""
        return self.splitting.transport_solver.transport

    @property
    def time(self) -> float:
        """Time marched so far."""
        return self.splitting.time

    @property
    def step(self) -> float:
        """The largest splitting step Δ (:attr:`~dgkinetic.splitting.StrangSplitting.step`)."""
        return self.splitting.step

    @property
    def transport_step(self) -> float:
        """The transport substep, ``cfl`` times h/((2p+1) max|v_x|)."""
        return self.splitting.transport_step

    @property
    def collision_evaluations(self) -> int:
        """Collision right-hand sides evaluated by the time march so far."""
        return self.splitting.collision_evaluations

    def advance(self, duration: float) -> None:
        """Advance by about ``duration`` (a whole number of splitting steps, at least one);
        :meth:`mean_wall_fluxes` then holds the wall fluxes averaged over this advance.

        Parameters
        ----------
        duration : float
            Time to advance by; positive.
        """
        if not (math.isfinite(duration) and duration > 0):
            raise InputError(f"channel: duration must be positive, got {duration}")
        self._flux_sum, self._flux_time = None, 0.0
        self.splitting.advance(duration)

    def solve_steady(self, solver_parameters: dict | None = None) -> dict:
        """Jump to the steady state of the unsplit equation with :class:`~dgkinetic.steady.SteadySolver`
        (Newton–Krylov, options ``-dgk_steady_…``) from the current state, keeping every species'
        number; :meth:`wall_fluxes` and :meth:`profiles` then describe it.

        Parameters
        ----------
        solver_parameters : dict, optional
            PETSc options of the steady solver, over its defaults
            (:data:`~dgkinetic.steady.STEADY_PARAMETERS`).

        Returns
        -------
        dict
            The solver's statistics (Newton and Krylov iterations, kinetic sweeps, final relative
            residual).
        """
        from dgkinetic.steady import SteadySolver
        transport = self.splitting.transport_solver
        steady = SteadySolver(KineticProblem(self.phase, transport.state, walls=transport.problem.walls,
                                             collisions=list(self.collisions)), solver_parameters)
        steady.solve()
        transport.state.dat.data[:] = steady.state.dat.data_ro
        return dict(steady.stats)

    # ------------------------------------------------------------------------------ moments
    def profiles(self) -> dict:
        """Moments at the DG nodes, sorted by x.

        Returns
        -------
        dict
            ``x`` (n,); ``density``, the number density per species, and ``mole_fraction``, both
            (N, n); the mass-averaged ``velocity`` u (n, d); the mixture's ``temperature``,
            ``shear_stress`` P_xy and ``heat_flux`` q_x (about u), each (n,).
        """
        from dgkinetic.moments import mixture_temperature, mixture_velocity, number_density
        mix, X = self.mixture, self.rows
        order = np.argsort(self.phase.node_coordinates[:, 0])
        X = X[order]
        fs = mix.split(X)
        n = np.stack([number_density(Xi, g) for Xi, g in zip(fs, mix.grids)])
        u = mixture_velocity(fs, mix.grids, mix.species)
        T = mixture_temperature(fs, mix.grids, mix.species)
        # shear stress and heat flux of the mixture, about its mass-averaged velocity
        c = mix.velocities[None, :, :] - u[:, None, :]                     # peculiar velocities
        c2 = np.sum(c ** 2, axis=2)
        mf = X * mix.masses * mix.weights
        return {"x": self.phase.node_coordinates[order, 0], "density": n, "mole_fraction": n / n.sum(axis=0),
                "velocity": u, "temperature": T, "shear_stress": np.sum(mf * c[:, :, 0] * c[:, :, 1], axis=1),
                "heat_flux": 0.5 * np.sum(mf * c2 * c[:, :, 0], axis=1)}

    def _fluxes(self, Xh: np.ndarray) -> dict:
        mix, tr = self.mixture, self.transport
        vn, fhat = tr.boundary_state(Xh)
        nx = tr.boundary.normals[:, 0]
        flux = (vn * fhat * mix.weights * nx[:, None])[np.argsort(nx)]   # x-directed; x = 0 first (n_x = −1)
        v = mix.velocities
        return {"number": np.stack([flux[:, sl].sum(axis=1) for sl in mix.slices()], axis=1),
                "shear_stress": flux @ (mix.masses * v[:, 1]),
                "energy": flux @ (0.5 * mix.masses * np.sum(v ** 2, axis=1))}

    def wall_fluxes(self) -> dict:
        """Fluxes in the +x direction through each wall now, from the upwind boundary traces.

        Returns
        -------
        dict
            ``number`` (per species, shape (2, N)), ``shear_stress`` (y-momentum flux, i.e. P_xy at
            the wall, shape (2,)) and ``energy`` (shape (2,)); row 0 is the wall at x = 0.
        """
        return self._fluxes(self.splitting.state.dat.data_ro_with_halos.reshape(-1, self.mixture.size))

    def mean_wall_fluxes(self) -> dict:
        """:meth:`wall_fluxes` averaged over the transport substeps of the last :meth:`advance`.

        What the transport moved through the walls: at the steady state of the split scheme the
        energy let in at one wall leaves at the other, while a snapshot taken after a collision half
        step carries a larger splitting error (collisions act at the wall between transport steps).

        Returns
        -------
        dict
            The keys and shapes of :meth:`wall_fluxes`.
        """
        if self._flux_sum is None:
            raise InputError("channel: no mean wall fluxes before the first advance()")
        return {k: v / self._flux_time for k, v in self._flux_sum.items()}

    def _accumulate_fluxes(self, solver, step, t, X):
        # trapezoidal rule over each transport substep (serial: the owned rows are all rows); the
        # flux jumps at every collision step, so the start of each transport run is sampled too
        flux = self._fluxes(X)
        if step > 0:
            dt = t - self._last_t
            add = {k: 0.5 * dt * (self._last_flux[k] + v) for k, v in flux.items()}
            self._flux_sum = add if self._flux_sum is None else {k: self._flux_sum[k] + add[k] for k in add}
            self._flux_time += dt
        self._last_t, self._last_flux = t, flux

    def run_to_steady(self, measure, *, tolerance: float, check_every: float, t_max: float,
                      t_min: float = 0.0) -> dict:
        """Advance until the steady state of ``measure(self)``, or until t_max.

        ``measure`` returns one value or several that agree at the steady state (e.g. a flux
        through each wall: its balance). Steady means: their mean changed by less than
        ``tolerance``·|mean| over one interval ``check_every``, they agree to that tolerance, and
        t ≥ t_min. ``measure`` is called after each interval (so it may use :meth:`mean_wall_fluxes`).

        Parameters
        ----------
        measure : callable
            ``measure(channel)`` → a number or an array of numbers.
        tolerance : float
            Relative change per interval and relative spread (max − min over |mean|) accepted as
            steady.
        check_every : float
            Time between checks (one :meth:`advance` each).
        t_max : float
            Time at which to stop if not steady.
        t_min : float
            Earliest time at which the state may be called steady.

        Returns
        -------
        dict
            ``time`` and ``value`` (arrays over the checks; value is the mean), ``converged``
            (bool), and the last relative ``change`` and ``imbalance``.
        """
        def sample():
            v = np.atleast_1d(np.asarray(measure(self), dtype=float))
            mean = float(np.mean(v))
            return mean, float(np.ptp(v)) / max(abs(mean), 1e-300)

        times, values, change, imbalance, steady = [], [], math.inf, math.inf, False
        while self.time < t_max - 1e-12 and not steady:
            self.advance(min(check_every, t_max - self.time))
            value, imbalance = sample()
            if values:
                change = abs(value - values[-1]) / max(abs(value), 1e-300)
            times.append(self.time)
            values.append(value)
            steady = self.time >= t_min - 1e-12 and change < tolerance and imbalance < tolerance
        return {"time": np.array(times), "value": np.array(values), "converged": steady, "change": change,
                "imbalance": imbalance}

    def numbers(self) -> np.ndarray:
        """Total number of each species in the channel.

        Returns
        -------
        ndarray, shape (N,)
        """
        mix, vol = self.mixture, self.phase.node_volumes
        return np.array([vol @ (Xi @ g.weights) for Xi, g in zip(mix.split(self.rows), mix.grids)])
