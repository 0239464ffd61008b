"""Time stepping: a data-only :class:`KineticProblem` and a :class:`KineticSolver` owning a PETSc TS.

Split as in Firedrake's variational solvers. Parameters come in layers — read-only defaults for the
chosen kind of stepping, then the user's ``solver_parameters``, then the command line under a
stable prefix (``-dgk_ts_type``, ``-dgk_snes_rtol``, ``-dgk_ts_monitor`` …), which wins.

The right-hand side is transport + Σ rate × collision. How it is split follows the TS type:
- explicit types (rk, ssp, euler …): everything in the RHS function;
- ``arkimex``: transport explicit, collisions implicit (IFunction ẋ − C(x)), their Jacobian
  shift·I − ∂C/∂x is block diagonal over space nodes (a BAIJ matrix, one dense block per node),
  solved exactly by point-block Jacobi;
- fully implicit types (beuler, bdf, theta, cn …): everything in the IFunction; the same
  block-diagonal collision Jacobian preconditions a matrix-free Newton–Krylov
  (``snes_mf_operator``), transport entering through the matrix-free operator.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import petsctools
from petsc4py import PETSc

import firedrake as fd
from dgkinetic.errors import InputError, NonPhysicalStateError
from dgkinetic.log import logger
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.transport import Transport

__all__ = ["KineticProblem", "KineticSolver", "DEFAULT_PARAMETERS", "OPTIONS_PREFIX"]

OPTIONS_PREFIX = "dgk_"

EXPLICIT_TYPES = {"euler", "rk", "ssp", "rk4", "3bs", "mimex"}
IMEX_TYPES = {"arkimex"}
IMPLICIT_TYPES = {"beuler", "bdf", "theta", "cn", "alpha", "glle", "irk", "radau5", "dirk"}

#: defaults of each kind of stepping (read-only; copy and update to change)
DEFAULT_PARAMETERS = MappingProxyType({
    "explicit": MappingProxyType({"ts_type": "rk", "ts_rk_type": "3bs",
                                  "ts_exact_final_time": "matchstep"}),
    "imex": MappingProxyType({"ts_type": "arkimex", "ts_arkimex_type": "2e",
                              "ts_exact_final_time": "matchstep",
                              "snes_type": "newtonls", "snes_rtol": 1e-10, "snes_atol": 1e-14,
                              "ksp_type": "preonly", "pc_type": "pbjacobi"}),
    "implicit": MappingProxyType({"ts_type": "beuler", "ts_exact_final_time": "matchstep",
                                  "snes_type": "newtonls", "snes_mf_operator": None,
                                  "snes_rtol": 1e-10, "snes_atol": 1e-14,
                                  "ksp_type": "gmres", "ksp_rtol": 1e-12, "pc_type": "pbjacobi"}),
})


@dataclass
class KineticProblem:
    """What to solve: the data, no machinery.

    Parameters
    ----------
    phase
        The phase space.
    initial
        Initial state (a Function on ``phase.state_space``).
    walls
        Boundary condition per boundary id (see :mod:`dgkinetic.walls`).
    collisions
        ``(operator, rate)`` pairs: ∂t f = −v·∇f + Σ rate × C(f) (rate = 1/Kn, or 1/ε² in the
        diffusive scaling).
    transport_speed
        Factor on the transport term (1/ε in the diffusive scaling; 0 for homogeneous runs).
    """

    phase: PhaseSpace
    initial: fd.Function
    walls: dict = field(default_factory=dict)
    collisions: list = field(default_factory=list)
    transport_speed: float = 1.0

    def __post_init__(self):
        if self.initial.function_space() != self.phase.state_space:
            raise InputError("the initial state must live on phase.state_space")
        for item in self.collisions:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise InputError("collisions must be a list of (operator, rate) pairs")
            if not (math.isfinite(item[1]) and item[1] >= 0):
                raise InputError(f"collision rate must be non-negative and finite, got {item[1]}")


def stepping_kind(ts_type: str) -> str:
    """'explicit', 'imex' or 'implicit' for a PETSc TS type name."""
    if ts_type in IMEX_TYPES:
        return "imex"
    if ts_type in IMPLICIT_TYPES:
        return "implicit"
    if ts_type in EXPLICIT_TYPES:
        return "explicit"
    raise InputError(f"unsupported TS type '{ts_type}'; use one of "
                     f"{sorted(EXPLICIT_TYPES | IMEX_TYPES | IMPLICIT_TYPES)}")


class KineticSolver:
    """Advances a :class:`KineticProblem` with PETSc TS.

    Parameters
    ----------
    problem
        The problem.
    solver_parameters
        PETSc options (without prefix) layered over the defaults of the stepping kind; the kind
        follows ``ts_type`` (command line first, then these parameters, then ``"rk"`` without
        collisions and ``"arkimex"`` with them).
    options_prefix
        Prefix of every option of this solver on the command line (default ``dgk_``).
    monitors
        Callables ``monitor(solver, step, t, X)`` called after every step (X: owned rows).

    Attributes
    ----------
    ts : PETSc.TS
    state : Function
        The current state (updated in place by :meth:`solve`).
    """

    def __init__(self, problem: KineticProblem, solver_parameters: dict | None = None,
                 options_prefix: str = OPTIONS_PREFIX, monitors=()):
        self.problem = problem
        phase = problem.phase
        self.phase = phase
        self.mixture = phase.mixture
        self.transport = (Transport(phase, problem.walls, problem.transport_speed)
                          if problem.transport_speed != 0 else None)
        user = dict(petsctools.flatten_parameters(solver_parameters or {}))
        opts = PETSc.Options()
        prefix = options_prefix if options_prefix.endswith("_") else options_prefix + "_"
        ts_type = ((opts.getString(prefix + "ts_type") if opts.hasName(prefix + "ts_type") else None)
                   or user.get("ts_type")
                   or ("arkimex" if problem.collisions else "rk"))
        self.kind = stepping_kind(ts_type)
        if self.kind == "explicit" or not problem.collisions:
            params = dict(DEFAULT_PARAMETERS["explicit"])
        else:
            params = dict(DEFAULT_PARAMETERS[self.kind])
        params.update(user)
        params["ts_type"] = ts_type
        self.parameters = params
        self.state = problem.initial.copy(deepcopy=True)
        self.state.rename("f")
        self._work = phase.function("work")
        self.monitors = list(monitors)
        self.n = phase.n_owned
        self.size = self.mixture.size
        self.stats = {"steps": 0, "rejected": 0, "nonlinear_iterations": 0, "linear_iterations": 0,
                      "wall_time": 0.0}

        ts = PETSc.TS().create(comm=phase.mesh.comm)
        ts.setProblemType(PETSc.TS.ProblemType.NONLINEAR)
        with self.state.dat.vec_ro as v:
            self._F = v.duplicate()
        explicit_all = self.kind == "explicit"
        if explicit_all or self.kind == "imex":
            ts.setRHSFunction(self._rhs_function, self._F.duplicate())
        if self.kind in ("imex", "implicit") and problem.collisions:
            ts.setIFunction(self._ifunction, self._F.duplicate())
            self._J = self._block_diagonal_matrix()
            ts.setIJacobian(self._ijacobian, self._J, self._J)
        elif self.kind == "implicit":
            ts.setIFunction(self._ifunction, self._F.duplicate())
        ts.setMonitor(self._monitor)
        petsctools.attach_options(ts, parameters=params, options_prefix=prefix)
        self.ts = ts
        self._from_options = False

    # ------------------------------------------------------------------ pieces of the RHS
    def _rows(self, vec) -> np.ndarray:
        return vec.getArray(readonly=True).reshape(self.n, self.size)

    def transport_rhs(self, vec, out: np.ndarray) -> None:
        """out = transport(x) on owned rows (halo exchange through the work Function)."""
        with self._work.dat.vec_wo as w:
            vec.copy(w)
        Xh = self._work.dat.data_ro_with_halos.reshape(-1, self.size)
        out[...] = self.transport.rhs(Xh)

    def collision_rhs(self, X: np.ndarray) -> np.ndarray:
        out = np.zeros_like(X)
        for op, rate in self.problem.collisions:
            out += rate * op.rhs(X)
        return out

    def collision_jacobian(self, X: np.ndarray) -> np.ndarray:
        J = np.zeros((X.shape[0], self.size, self.size))
        for op, rate in self.problem.collisions:
            J += rate * op.jacobian(X)
        return J

    def _rhs_function(self, ts, t, x, F):
        out = F.getArray().reshape(self.n, self.size)
        if self.transport is not None:
            self.transport_rhs(x, out)
        else:
            out[...] = 0.0
        if self.kind == "explicit" and self.problem.collisions:
            out += self.collision_rhs(self._rows(x))

    def _ifunction(self, ts, t, x, xdot, F):
        out = F.getArray().reshape(self.n, self.size)
        X = self._rows(x)
        if self.kind == "implicit" and self.transport is not None:
            self.transport_rhs(x, out)
        else:
            out[...] = 0.0
        if self.problem.collisions:
            out += self.collision_rhs(X)
        out *= -1.0
        out += self._rows(xdot)

    def _block_diagonal_matrix(self) -> PETSc.Mat:
        bs, n = self.size, self.n
        J = PETSc.Mat().createBAIJ(((n * bs, None), (n * bs, None)), bs, nnz=(1, 0),
                                   comm=self.phase.mesh.comm)
        J.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, True)
        J.setUp()
        return J

    def _ijacobian(self, ts, t, x, xdot, shift, J, P):
        blocks = -self.collision_jacobian(self._rows(x))
        blocks[:, np.arange(self.size), np.arange(self.size)] += shift
        start = P.getOwnershipRange()[0] // self.size
        P.setValuesBlockedCSR(np.arange(self.n + 1, dtype=PETSc.IntType),
                              np.arange(start, start + self.n, dtype=PETSc.IntType),
                              blocks.reshape(-1))
        P.assemble()
        if J != P:
            J.assemble()

    # ------------------------------------------------------------------ monitoring
    def _monitor(self, ts, step, t, x):
        X = self._rows(x)
        if not np.all(np.isfinite(X)):
            raise NonPhysicalStateError(f"non-finite state at t={t:.6g} (step {step})")
        for mon in self.monitors:
            mon(self, step, t, X)

    # ------------------------------------------------------------------ driving
    def solve(self, t_end: float, dt: float, t0: float = 0.0, max_steps: int = 10 ** 9) -> fd.Function:
        """Advance the state from t0 to t_end with initial step dt; returns the state Function."""
        if not (math.isfinite(dt) and dt > 0):
            raise InputError(f"time step must be positive, got {dt}")
        if not (math.isfinite(t_end) and t_end > t0):
            raise InputError(f"end time {t_end} must exceed the start time {t0}")
        ts = self.ts
        ts.setTime(t0)
        ts.setTimeStep(dt)
        ts.setMaxTime(t_end)
        ts.setMaxSteps(max_steps)
        ts.setStepNumber(0)
        if not self._from_options:
            ts.setExactFinalTime(PETSc.TS.ExactFinalTime.MATCHSTEP)
            petsctools.set_from_options(ts)
            self._from_options = True
        start = time.perf_counter()
        with self.state.dat.vec as u, petsctools.inserted_options(ts):
            ts.solve(u)
        self.stats["wall_time"] += time.perf_counter() - start
        self.stats["steps"] += ts.getStepNumber()
        self.stats["rejected"] += ts.getStepRejections()
        self.stats["nonlinear_iterations"] += ts.getSNESIterations()
        self.stats["linear_iterations"] += ts.getKSPIterations()
        reason = ts.getConvergedReason()
        if reason < 0:
            raise NonPhysicalStateError(f"time stepping failed at t={ts.getTime():.6g}: TS reason {reason}")
        logger.debug("solve: %s", self.stats)
        return self.state

    @property
    def time(self) -> float:
        return self.ts.getTime()

    @property
    def rows(self) -> np.ndarray:
        """Owned rows of the current state (n_owned, size), read-only."""
        return self.state.dat.data_ro.reshape(self.n, self.size)
