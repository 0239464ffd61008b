"""Strang splitting: a time stepper alternating free transport with walls and the collisions alone.

:class:`StrangSplitting` advances the kinetic equation ∂f/∂t + v·∇ₓf = C(f) by

    f ← C(Δ/2) T(Δ) C(Δ/2) f,

with T the free transport with walls (explicit RK3, substepped at a given step below its CFL limit)
and C the collisions alone (Heun's RK2), each a :class:`~dgkinetic.solver.KineticSolver` with its
own options prefix (``dgk_transport_``, ``dgk_collision_``). Consecutive half steps of C merge into
one, so n steps cost n + 1 collision steps. Splitting is what makes a Boltzmann Knudsen-number
sweep affordable: transport needs Δt ≤ h/((2p+1) max|v_x|), while collisions need Δ a fraction of the
mean free time λ/v̄ (and within their explicit stability limit, :func:`stable_collision_step`). The
steady state of the split scheme is off by O((Δ/τ)²) (for a linear relaxation Strang splitting has
the effective relaxation time τ(1 + (Δ/τ)²/12 + …)). Both parts conserve every species' number
exactly, so their composition does. Without collisions the stepper is transport alone.

:class:`~dgkinetic.solver.KineticSolver` is the unsplit stepper (transport and collisions in one
PETSc TS, explicit, IMEX or implicit).
"""
from __future__ import annotations

import math

import numpy as np

from dgkinetic.errors import InputError
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.solver import KineticProblem, KineticSolver

__all__ = ["StrangSplitting", "stable_collision_step"]

#: Stability interval [−2, 0] of Heun's RK2 on the real axis and the fraction of it used
HEUN_INTERVAL = 2.0
COLLISION_SAFETY = 0.75


def stable_collision_step(collisions, rows: np.ndarray, admissible=None, interval: float = HEUN_INTERVAL,
                          safety: float = COLLISION_SAFETY) -> float:
    """Step of an explicit Runge–Kutta method on the collisions alone, stable at these state rows.

    The collision Jacobian J = Σ rate ∂C/∂f has a nearly real, non-positive spectrum, so a method
    whose stability region holds [−interval, 0] is stable for Δ = safety · interval/ρ(J), ρ the
    largest spectral radius over the rows (interval 2 for Heun's RK2, 2(s−1) for the s-stage
    second-order SSP method). On coarse grids ρ comes from the far tails kept by ``tail_floor``.

    Parameters
    ----------
    collisions
        ``(operator, rate)`` pairs; each operator provides ``jacobian`` and ``freeze_tails``.
    rows : ndarray, shape (n, size)
        State rows at which the Jacobian is evaluated.
    admissible : callable, optional
        Maps rows to the admissible states the operators are evaluated at
        (:meth:`~dgkinetic.solver.KineticSolver.admissible`); the rows as given when omitted.
    interval : float
        Length of the negative real interval inside the method's stability region.
    safety : float
        Fraction of the stability limit returned.

    Returns
    -------
    float
        The stable step; ``inf`` when the Jacobian vanishes.
    """
    X = np.asarray(rows, dtype=float) if admissible is None else admissible(rows)
    J = 0.0
    for op, rate in collisions:
        op.freeze_tails(X)
        J = J + rate * op.jacobian(X)
        op.freeze_tails(None)
    rho = float(np.max(np.abs(np.linalg.eigvals(J))))
    return safety * interval / rho if rho > 0 else math.inf


class StrangSplitting:
    """Steps transport with walls and collisions alternately (module docstring).

    The state lives in the transport solver between calls of :meth:`advance`.

    Parameters
    ----------
    phase : PhaseSpace
        Space mesh ⊗ velocity grids.
    initial : Function
        Initial state on ``phase``.
    walls : dict
        Boundary id → wall or open boundary, as for :class:`~dgkinetic.solver.KineticProblem`.
    collisions
        ``(operator, rate)`` pairs; empty for transport alone.
    transport_step : float
        Substep of the transport (explicit RK3); below its stability limit.
    collision_step : float
        Largest splitting step Δ; the step used, :attr:`step`, is also at most the stable step of
        Heun's RK2 on the collisions at three rows of the initial state (first, middle, last):
        :func:`stable_collision_step`, or a power-iteration estimate of the spectral radius for
        operators without a Jacobian (``explicit_only``). Ignored without collisions.
    monitors
        Callables ``monitor(solver, step, t, X)`` called after every transport substep.
    transport_prefix, collision_prefix : str
        Options prefixes of the two solvers.

    Attributes
    ----------
    transport_solver : KineticSolver
        T; it holds the current state.
    collision_solver : KineticSolver or None
        C; ``None`` without collisions.
    step : float
        The largest splitting step Δ used.
    transport_step : float
        The transport substep (at most; a splitting step is divided into equal substeps).
    time : float
        Current time.
    collision_evaluations : int
        Collision right-hand sides evaluated so far (two per Heun step).
    """

    def __init__(self, phase: PhaseSpace, initial, *, walls: dict, collisions=(), transport_step: float,
                 collision_step: float, monitors=(), transport_prefix: str = "dgk_transport_",
                 collision_prefix: str = "dgk_collision_"):
        if not (math.isfinite(transport_step) and transport_step > 0):
            raise InputError(f"splitting: transport_step must be positive, got {transport_step}")
        if not (math.isfinite(collision_step) and collision_step > 0):
            raise InputError(f"splitting: collision_step must be positive, got {collision_step}")
        collisions = list(collisions)
        explicit = {"ts_adapt_type": "none", "ts_exact_final_time": "matchstep"}
        self.transport_solver = KineticSolver(
            KineticProblem(phase, initial, walls=walls),
            solver_parameters=dict(explicit, ts_type="rk", ts_rk_type="3bs"), options_prefix=transport_prefix,
            monitors=monitors)
        self.collision_solver = None
        if collisions:
            self.collision_solver = KineticSolver(
                KineticProblem(phase, initial, collisions=collisions, transport_speed=0.0),
                solver_parameters=dict(explicit, ts_type="rk", ts_rk_type="2a"), options_prefix=collision_prefix)
        self.transport_step = float(transport_step)
        self.step = self._stable_step(collisions, float(collision_step))
        self.time = 0.0
        self.collision_evaluations = 0

    def _stable_step(self, collisions: list, largest: float) -> float:
        """``largest``, lowered to the stable Heun step of the collisions at three initial rows."""
        if not collisions:
            return largest
        X = self.rows
        probe = X[[0, len(X) // 2, len(X) - 1]]
        if any(op.explicit_only for op, _ in collisions):
            # no Jacobian (the spectral form): the spectral radius by power iteration
            rho = max(self.collision_solver.collision_spectral_radius(probe[[k]]) for k in range(len(probe)))
            return min(largest, COLLISION_SAFETY * HEUN_INTERVAL / rho if rho > 0 else math.inf)
        return min(largest, stable_collision_step(collisions, probe, self.collision_solver.admissible))

    @property
    def state(self):
        """The current state (a Function, updated in place by :meth:`advance`)."""
        return self.transport_solver.state

    @property
    def rows(self) -> np.ndarray:
        """Current state, owned rows (n_owned, mixture.size), read-only."""
        return self.transport_solver.rows

    def _run(self, solver: KineticSolver, src: KineticSolver, dt: float, n_steps: int) -> KineticSolver:
        """``n_steps`` steps dt of ``solver`` from the state of ``src``; returns ``solver``."""
        if solver is not src:
            solver.state.dat.data[:] = src.state.dat.data_ro
        solver.solve(self.time + n_steps * dt, dt, t0=self.time)
        return solver

    def advance(self, duration: float) -> None:
        """Advance by about ``duration``: a whole number (at least one) of equal splitting steps.

        Parameters
        ----------
        duration : float
            Time to advance by; positive.
        """
        if not (math.isfinite(duration) and duration > 0):
            raise InputError(f"splitting: duration must be positive, got {duration}")
        transport = self.transport_solver
        if self.collision_solver is None:
            n = max(1, math.ceil(duration / self.transport_step - 1e-9))
            self._run(transport, transport, duration / n, n)
            self.time += duration
            return
        steps = max(1, math.ceil(duration / self.step - 1e-9))
        delta = duration / steps
        sub = max(1, math.ceil(delta / self.transport_step - 1e-9))
        src = self._run(self.collision_solver, transport, 0.5 * delta, 1)
        for k in range(steps):
            # consecutive half steps of C merge into one: C(Δ/2) [T(Δ) C(Δ)]… T(Δ) C(Δ/2)
            src = self._run(transport, src, delta / sub, sub)
            last = k == steps - 1
            src = self._run(self.collision_solver, src, (0.5 if last else 1.0) * delta, 1)
            self.time += delta
        transport.state.dat.data[:] = src.state.dat.data_ro
        self.collision_evaluations += 2 * (steps + 1)                  # Heun: two per collision step
