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
import weakref
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import petsctools
from petsc4py import PETSc

import firedrake as fd
from dgkinetic.errors import InputError, NonPhysicalStateError
from dgkinetic.log import logger
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.statistics import from_entropy_variable
from dgkinetic.transport import Transport, global_norm

__all__ = ["KineticProblem", "KineticSolver", "DEFAULT_PARAMETERS", "OPTIONS_PREFIX"]


def weak_callback(method):
    """A function calling the bound ``method`` through a weak reference to its object.

    PETSc keeps its callbacks (and a PC's Python context) alive from C, out of sight of Python's cycle
    collector: a callback holding its solver would keep every solver ever made, with its operators and
    tables, alive (a sweep of steady solves grew by 70 MiB per solve).

    Parameters
    ----------
    method
        A bound method, e.g. ``self._residual``.

    Returns
    -------
    callable
        ``f(*args) = method(*args)`` while the object lives.
    """
    ref, func = weakref.ref(method.__self__), method.__func__
    return lambda *args: func(ref(), *args)

OPTIONS_PREFIX = "dgk_"

EXPLICIT_TYPES = {"euler", "rk", "ssp", "mimex"}
IMEX_TYPES = {"arkimex"}
IMPLICIT_TYPES = {"beuler", "bdf", "theta", "cn", "alpha", "glle", "irk", "radau5", "dirk"}

#: Radius r of the half-disc {|z| ≤ r, Re z ≤ 0} inside the stability region of an explicit
#: method, from its stability polynomial: 1 + z + z²/2 + z³/6 (every 3-stage third-order RK,
#: Bogacki–Shampine's 3bs included) holds it up to r = √3, the classical RK4 up to 2.61. The
#: upwind DG transport spectrum lies in the left half-plane, so Δt·ρ ≤ r keeps it stable. Methods
#: whose region misses the imaginary axis near 0 (Euler, two-stage RK2) get a conservative 0.5.
HALF_DISC_RADIUS = MappingProxyType({"rk:3": 1.73, "rk:3bs": 1.73, "rk:4": 2.61})
UNLISTED_HALF_DISC_RADIUS = 0.5
#: A stability limit below this is refused with one line (PETSc's adaptive controllers stop at 1e-20).
MIN_STABLE_STEP = 1e-14
#: Fraction of the estimated stability limit the adaptive controller may use.
STABILITY_SAFETY = 0.9

#: Largest change of the entropy variable per Newton iteration and node (a factor e² in f), and
#: the Levenberg–Marquardt damping of a node whose update was cut to it: multiplied by
#: ``DAMPING_GROWTH`` (at least 1) after each cut, divided by ``DAMPING_DECAY`` otherwise, dropped
#: below ``DAMPING_FLOOR`` (KineticSolver._damped_entropy_step).
ETA_STEP_LIMIT = 2.0
DAMPING_GROWTH = 4.0
DAMPING_DECAY = 2.0
DAMPING_FLOOR = 1e-3

#: defaults of each kind of stepping (read-only; copy and update to change)
DEFAULT_PARAMETERS = MappingProxyType({
    # error tolerances 1e-6 (PETSc's default 1e-4 let a mixture's moment trajectory end 2e-3 off
    # in four steps: tests/test_exchange_rates.py); the step is also capped at the stability limit
    "explicit": MappingProxyType({"ts_type": "rk", "ts_rk_type": "3bs", "ts_rtol": 1e-6, "ts_atol": 1e-6,
                                  "ts_exact_final_time": "matchstep"}),
    "imex": MappingProxyType({"ts_type": "arkimex", "ts_arkimex_type": "2e",
                              "ts_exact_final_time": "matchstep",
                              "snes_type": "newtonls", "snes_linesearch_type": "basic",
                              "snes_rtol": 1e-12, "snes_atol": 1e-15, "snes_stol": 1e-14,
                              "snes_max_it": 30, "ksp_type": "preonly",
                              "ts_max_snes_failures": 20,
                              # a stage is also solved once its residual has dropped by newton_rtol
                              # and, as a state error |F_k|/shift, is below newton_error_fraction of
                              # the step's error tolerance atol + rtol|f_k| (KineticSolver._converged_local)
                              "newton_rtol": 1e-6, "newton_error_fraction": 1e-3}),
    "implicit": MappingProxyType({"ts_type": "beuler", "ts_exact_final_time": "matchstep",
                                  "snes_type": "newtonls", "snes_linesearch_type": "basic",
                                  "snes_mf_operator": None,
                                  "snes_rtol": 1e-10, "snes_atol": 1e-14, "snes_max_it": 30,
                                  "ksp_type": "gmres", "ksp_rtol": 1e-12}),
})

#: Over the kind's defaults when an implicitly treated operator has no Jacobian (the spectral form):
#: Newton–Krylov with finite-difference Jacobian products (the exact linearisation, one collision
#: evaluation per Krylov iteration), preconditioned by the BGK-type linearisation per node
#: (:class:`LinearisedBGK`: the loss term and the relaxation of the moments at the loss rate);
#: Newton solved tightly, since the invariants hold to the stage residual (the collisions conserve
#: them exactly, the Krylov solution only to its tolerance); the Krylov tolerance of each Newton step
#: from Eisenstat–Walker (loose far from the solution): on the 3V shock tube at Kn = 0.001 (8 cells,
#: 0.05 time units) 657 GMRES iterations instead of 1599, 67 s instead of 153, invariants to 1.5e-14.
MATRIX_FREE_PARAMETERS = MappingProxyType({"snes_mf_operator": None, "snes_ksp_ew": None,
                                           "snes_rtol": 1e-10, "snes_atol": 1e-15,
                                           "snes_stol": 0.0, "ksp_type": "gmres", "ksp_rtol": 1e-8,
                                           "ksp_atol": 1e-16, "ksp_max_it": 200, "ksp_gmres_restart": 100})


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


def command_line_options(prefix: str) -> dict:
    """The options of the PETSc database under ``prefix``, without it (names lower-cased).

    Parameters
    ----------
    prefix : str
        Options prefix, e.g. ``"dgk_"``.

    Returns
    -------
    dict
        Option name (prefix removed) → value as a string (None for a flag without value).
    """
    out = {}
    for name, value in PETSc.Options().getAll().items():
        name = name.lower()
        if name.startswith(prefix):
            out[name[len(prefix):]] = value
    return out


def stepping_kind(ts_type: str) -> str:
    """The kind of stepping of a PETSc TS type.

    Parameters
    ----------
    ts_type : str
        TS type name (lower case), e.g. ``"rk"``, ``"arkimex"``, ``"beuler"``.

    Returns
    -------
    str
        ``"explicit"``, ``"imex"`` or ``"implicit"``; an :class:`~dgkinetic.errors.InputError` for
        other types.
    """
    if ts_type in IMEX_TYPES:
        return "imex"
    if ts_type in IMPLICIT_TYPES:
        return "implicit"
    if ts_type in EXPLICIT_TYPES:
        return "explicit"
    raise InputError(f"unsupported TS type '{ts_type}'; use one of "
                     f"{sorted(EXPLICIT_TYPES | IMEX_TYPES | IMPLICIT_TYPES)}")


class LinearisedBGK:
    """Preconditioning matrix and preconditioner of matrix-free implicit collisions: shift·I − r L with
    L the BGK-type linearisation of the collisions at the state f, per space node and species,

        L δ = −ν δ + ν f φᵀ G⁻¹ Σ_k W_k φ_k ν_k δ_k,   G = Σ_k W_k ν_k f_k φ_k φ_kᵀ,   φ = (1, v, |v|²),

    ν = Σ r ν_op the operators' loss frequencies (rate-weighted). L is what relaxes f towards the
    local equilibrium of its moments at the loss rate: it conserves the species' number, momentum and
    energy (Σ W φ L δ = 0) and annihilates f φ, as the true linearisation annihilates the invariant
    directions at equilibrium. Without the low-rank term it is the loss term's diagonal alone (a
    penalisation in the spirit of Filbet and Jin, J. Comput. Phys. 229 (2010) 7625), which leaves the
    slow moment modes to the Krylov solver (≈ 23 GMRES iterations per Newton step at ν Δt ≈ 5e2,
    1D3V shock tube at Kn = 0.001). P = D − U G⁻¹ Vᵀ with D = shift + ν, U = ν f φ, V = W ν φ is applied
    by the Woodbury identity, P⁻¹ = D⁻¹ + D⁻¹ U K⁻¹ Vᵀ D⁻¹ with K = G − Vᵀ D⁻¹ U = Σ W ν f φφᵀ shift/D
    (positive definite): O(size (d+2)²) per node. Used as a PETSc Python Mat (:meth:`mult`) and PC
    (:meth:`apply`)."""

    def __init__(self, mixture):
        self.slices = mixture.slices()
        V = mixture.velocities
        #: φ = (1, v, |v|²) at every velocity node, (size, d+2)
        self.phi = np.concatenate([np.ones((len(V), 1)), V, np.sum(V * V, axis=1, keepdims=True)], axis=1)
        self.weights = mixture.weights
        #: shift + ν, ν f and W ν per node (n, size); G and K per species, (n, d+2, d+2): set by update
        self.diagonal = self.U = self.V = None
        self.G, self.K = [], []

    def update(self, shift: float, frequency: np.ndarray, X: np.ndarray) -> None:
        """Set the state: ``shift``, the rate-weighted loss frequencies ν and the rows X, shape (n, size)."""
        frequency = np.maximum(frequency, 0.0)
        self.diagonal = shift + frequency
        self.U = frequency * np.maximum(X, 0.0)                       # ν f (φ applied on the fly)
        self.V = frequency * self.weights                             # W ν
        self.G, self.K = [], []
        for sl in self.slices:
            phi = self.phi[sl]
            wf = self.weights[sl] * self.U[:, sl]                         # W ν f
            self.G.append(self._regular(np.einsum("nk,ka,kb->nab", wf, phi, phi)))
            self.K.append(self._regular(np.einsum("nk,ka,kb->nab", wf * (shift / self.diagonal[:, sl]), phi, phi)))

    @staticmethod
    def _regular(M: np.ndarray) -> np.ndarray:
        """M + ε trace(M) I: solvable where a species is absent (f = 0: then U = 0 and the term vanishes)."""
        eps = 1e-14 * np.trace(M, axis1=1, axis2=2) + 1e-300
        return M + eps[:, None, None] * np.eye(M.shape[1])

    def _low_rank(self, Z: np.ndarray, inner: list) -> np.ndarray:
        """Σ over species of U inner⁻¹ Vᵀ Z, rows of Z shape (n, size)."""
        out = np.zeros_like(Z)
        for sl, M in zip(self.slices, inner):
            phi = self.phi[sl]
            c = np.linalg.solve(M, ((self.V[:, sl] * Z[:, sl]) @ phi)[..., None])[..., 0]     # (n, d+2)
            out[:, sl] = self.U[:, sl] * (c @ phi.T)
        return out

    def mult(self, mat, x, y):
        X = x.getArray(readonly=True).reshape(self.diagonal.shape)
        y.setArray((self.diagonal * X - self._low_rank(X, self.G)).ravel())

    def apply(self, pc, x, y):
        Z = x.getArray(readonly=True).reshape(self.diagonal.shape) / self.diagonal
        y.setArray((Z + self._low_rank(Z, self.K) / self.diagonal).ravel())


class EntropyScaledBlockJacobi:
    """Preconditioner: exact solves with the block-diagonal collision Jacobian, in entropy scaling.

    The blocks P_r = shift·I − ∂C/∂f of every space node are solved as (P_r diag(fτ)) δη = r,
    i.e. for the entropy-variable correction, then δf = fτ δη. Mathematically P_r⁻¹ r; numerically
    the tail components (f ~ 1e-15 of the peak) keep their relative accuracy, which the plain
    solve loses to round-off of the large components.

    With :attr:`damping` μ ≥ 0 (shape (n, size), set by the solver's Newton step) the solve is the
    Levenberg–Marquardt one, (P_r diag(fτ) + diag(μ |diag(P_r diag(fτ))|)) δη = r: a row whose
    entropy-variable update keeps overshooting is held back without spoiling the Newton
    direction of the others (they see that it moves less). μ = 0 is the exact block solve.
    """

    def __init__(self, solver: "KineticSolver"):
        self.solver = weakref.proxy(solver)     # PETSc holds this object: no cycle through it
        self.scale = None
        self.scaled = None
        self.inverse = None
        self.damping = None

    def update(self, blocks: np.ndarray, X: np.ndarray) -> None:
        """New blocks and state; factored at the next :meth:`apply`.

        Parameters
        ----------
        blocks : ndarray, shape (n, size, size)
            P_r = shift·I − ∂C/∂f per owned space node.
        X : ndarray, shape (n, size)
            The (admissible) state; fτ = f(1 + α f) scales the columns.
        """
        mix = self.solver.mixture
        self.scale = X * (1.0 + mix.alphas * X)
        self.scaled = blocks * self.scale[:, None, :]
        self.inverse = None

    def set_damping(self, mu: np.ndarray | None) -> None:
        """Set the Levenberg–Marquardt damping.

        Parameters
        ----------
        mu : ndarray, shape (n, size), or None
            μ ≥ 0 per space node and velocity node; None for the exact block solve.
        """
        self.damping = mu
        self.inverse = None

    def _factor(self) -> None:
        if self.inverse is not None:
            return
        A = self.scaled
        mu = self.damping
        if mu is not None and np.any(mu > 0):
            A = A.copy()
            idx = np.arange(A.shape[1])
            A[:, idx, idx] += mu * np.abs(np.diagonal(self.scaled, axis1=1, axis2=2))
        self.inverse = np.linalg.inv(A)

    def setUp(self, pc):
        """PETSc's PCSetUp: nothing (the blocks come with :meth:`update`).

        Parameters
        ----------
        pc : PETSc.PC
        """

    def apply(self, pc, x, y):
        """PETSc's PCApply: y = P⁻¹ x, block by block in entropy scaling.

        Parameters
        ----------
        pc : PETSc.PC
        x, y : PETSc.Vec
            The residual and the preconditioned vector (written), owned rows.
        """
        n, size = self.solver.n, self.solver.size
        self._factor()
        r = x.getArray(readonly=True).reshape(n, size)
        out = y.getArray().reshape(n, size)
        out[...] = self.scale * np.matmul(self.inverse, r[:, :, None])[:, :, 0]


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
        prefix = options_prefix if options_prefix.endswith("_") else options_prefix + "_"
        user = {k.lower(): v for k, v in petsctools.flatten_parameters(solver_parameters or {}).items()}
        command_line = command_line_options(prefix)
        # the kind of stepping follows the TS type the user asked for (command line over
        # solver_parameters); without one: "arkimex" with collisions that have a Jacobian, else "rk"
        explicit_ops = [op for op, _ in problem.collisions if op.explicit_only]
        asked = {**user, **command_line}
        ts_type = str(asked.get("ts_type") or ("arkimex" if problem.collisions and not explicit_ops else "rk")).lower()
        self.kind = stepping_kind(ts_type)
        #: operators without a Jacobian that give their loss frequency: implicit by matrix-free Newton
        #: (MATRIX_FREE_PARAMETERS), preconditioned by their loss term
        self.matrix_free = bool(explicit_ops) and self.kind != "explicit"
        probe = np.ones((1, self.mixture.size))
        no_frequency = [type(op).__name__ for op in explicit_ops
                        if self.matrix_free and op.loss_frequency(probe) is None]
        if no_frequency and self.kind != "explicit":
            raise InputError(f"{no_frequency[0]} has no Jacobian and must be stepped explicitly; "
                             f"ts_type '{ts_type}' treats collisions implicitly (use e.g. ts_type = \"rk\")")
        defaults = DEFAULT_PARAMETERS["explicit" if self.kind == "explicit" or not problem.collisions else self.kind]
        if self.matrix_free:
            defaults = {**defaults, **MATRIX_FREE_PARAMETERS}
        # layers: defaults of the kind, then solver_parameters (PETSc puts the command line on top)
        params = {**defaults, **user}
        if "ts_type" in asked and asked["ts_type"] != defaults["ts_type"]:
            params = {k: v for k, v in params.items() if not k.startswith(f"ts_{defaults['ts_type']}_")}
        #: the options PETSc runs this solver with: defaults < solver_parameters < command line
        self.parameters = {**params, **command_line}
        self.state = problem.initial.copy(deepcopy=True)
        self.state.rename("f")
        self._work = phase.function("work")
        self.monitors = list(monitors)
        self.n = phase.n_owned
        self.size = self.mixture.size
        self.stats = {"steps": 0, "rejected": 0, "nonlinear_iterations": 0, "linear_iterations": 0,
                      "wall_time": 0.0}
        # implicitly treated collisions (set below): their block-diagonal Jacobian and its
        # preconditioner; the Newton callbacks' state: whether the last update was additive, and the
        # first and last residual norms of the current solve
        self._J = None
        self._block_pc = None
        self._last_additive = False
        self._fnorm0 = self._fnorm_last = None

        ts = PETSc.TS().create(comm=phase.mesh.comm)
        ts.setProblemType(PETSc.TS.ProblemType.NONLINEAR)
        with self.state.dat.vec_ro as v:
            self._F = v.duplicate()
        explicit_all = self.kind == "explicit"
        if explicit_all or self.kind == "imex":
            ts.setRHSFunction(weak_callback(self._rhs_function), self._F.duplicate())
        if self.kind in ("imex", "implicit") and problem.collisions:
            ts.setIFunction(weak_callback(self._ifunction), self._F.duplicate())
            if self.matrix_free:
                self._block_pc = LinearisedBGK(self.mixture)
                local = self.n * self.size
                self._J = PETSc.Mat().createPython(((local, None), (local, None)), context=self._block_pc,
                                                   comm=phase.mesh.comm)
                self._J.setUp()
            else:
                self._J = self._block_diagonal_matrix()
            ts.setIJacobian(weak_callback(self._ijacobian), self._J, self._J)
        elif self.kind == "implicit":
            ts.setIFunction(weak_callback(self._ifunction), self._F.duplicate())
        ts.setMonitor(weak_callback(self._monitor))
        ts.setPreStep(weak_callback(self._prestep))
        if self.kind in ("imex", "implicit") and problem.collisions:
            snes = ts.getSNES()
            if self.matrix_free:
                pass                     # plain Newton–Krylov: additive updates, PETSc's own tests
            elif self.kind == "imex" and self.transport is None:
                # homogeneous: every stage is a small system per row, solved exactly by the block
                # preconditioner: damped Newton in the entropy variable (see _damped_entropy_step).
                # (With explicit transport, tail values below zero stalled it in tests/test_coupled.py;
                # those runs keep the undamped update below.)
                snes.setLineSearchPreCheck(weak_callback(self._damped_entropy_step))
                snes.setConvergenceTest(weak_callback(self._converged_local))
            else:
                snes.setLineSearchPreCheck(weak_callback(self._entropy_variable_step))
                snes.setConvergenceTest(weak_callback(self._converged))
            self._last_additive = False
            # default preconditioner: exact block solves in entropy-variable scaling (options may
            # override), or the loss term's diagonal for matrix-free collisions
            if not self.matrix_free:
                self._block_pc = EntropyScaledBlockJacobi(self)
            pc = snes.getKSP().getPC()
            pc.setType(PETSc.PC.Type.PYTHON)
            pc.setPythonContext(self._block_pc)
        petsctools.attach_options(ts, parameters=params, options_prefix=prefix)
        self.ts = ts
        self._from_options = False
        self._step_limit = None
        self._shift = None
        self._newton_error_fraction = float(self.parameters.get("newton_error_fraction", 0.0)) \
            if self.kind == "imex" and self.transport is None else 0.0
        self._newton_rtol = float(self.parameters.get("newton_rtol", 0.0))

    # ------------------------------------------------------------------ pieces of the RHS
    def _rows(self, vec) -> np.ndarray:
        return vec.getArray(readonly=True).reshape(self.n, self.size)

    def transport_rhs(self, vec, out: np.ndarray) -> None:
        """out = transport(x) on owned rows; the state is read in place, halo rows through the work
        Function (:meth:`~dgkinetic.transport.Transport.rhs_rows`).

        Parameters
        ----------
        vec : PETSc.Vec
            The state (owned rows).
        out : ndarray, shape (n_owned, size)
            Where to write the transport term (overwritten).
        """
        self.transport.rhs_rows(self._rows(vec), self._work, out)

    def admissible(self, X: np.ndarray) -> np.ndarray:
        """X with every value lifted into the domain of the entropy variable.

        DG transport is not positivity preserving, and Newton's trial states may dip below zero in
        the far tails, where f is ~1e-12 of its peak. The collision forms need log(f/τ), so they are
        evaluated at max(f, 1e-30·max f) (and below 1 for Fermi species). Conservation stays exact
        whatever the argument (the brackets annihilate the invariants); only those tail values,
        negligible by construction, enter the collision term differently.

        Parameters
        ----------
        X : ndarray, shape (..., size)
            State rows.

        Returns
        -------
        ndarray
            A lifted copy of X (same shape).
        """
        out = np.array(X)
        for Xi, s in zip(self.mixture.split(out), self.mixture.species):
            floor = 1e-30 * np.max(np.abs(Xi), axis=-1, keepdims=True) + 1e-300
            np.maximum(Xi, floor, out=Xi)
            if s.alpha < 0:
                np.minimum(Xi, 1.0 - 1e-14, out=Xi)
        return out

    def collision_rhs(self, X: np.ndarray) -> np.ndarray:
        """Σ rate × C(X) on rows (evaluated at :meth:`admissible` values).

        Parameters
        ----------
        X : ndarray, shape (n, size)
            State rows.

        Returns
        -------
        ndarray, shape (n, size)
        """
        X = self.admissible(X)
        return self._rate_weighted_sum(np.zeros_like(X), lambda op: op.rhs(X))

    def collision_jacobian(self, X: np.ndarray) -> np.ndarray:
        """d(collision_rhs)/dX per row; zero columns where :meth:`admissible` clipped the state.

        Parameters
        ----------
        X : ndarray, shape (n, size)
            State rows.

        Returns
        -------
        ndarray, shape (n, size, size)
        """
        Xa = self.admissible(X)
        J = self._rate_weighted_sum(np.zeros((X.shape[0], self.size, self.size)), lambda op: op.jacobian(Xa))
        clipped = Xa != X
        if clipped.any():
            J *= ~clipped[:, None, :]
        return J

    def _rate_weighted_sum(self, out: np.ndarray, term) -> np.ndarray:
        """``out`` plus Σ rate × ``term(op)`` over the problem's collision operators (in place)."""
        for op, rate in self.problem.collisions:
            out += rate * term(op)
        return out

    def _transport_part(self, x, F, with_transport: bool) -> np.ndarray:
        """F's rows, set to the transport term of x if ``with_transport`` and there is one, else to 0."""
        out = F.getArray().reshape(self.n, self.size)
        if with_transport and self.transport is not None:
            self.transport_rhs(x, out)
        else:
            out[...] = 0.0
        return out

    def _rhs_function(self, ts, t, x, F):
        out = self._transport_part(x, F, True)
        if self.kind == "explicit" and self.problem.collisions:
            out += self.collision_rhs(self._rows(x))

    def _ifunction(self, ts, t, x, xdot, F):
        out = self._transport_part(x, F, self.kind == "implicit")
        X = self._rows(x)
        if self.problem.collisions:
            out += self.collision_rhs(X)
        out *= -1.0
        out += self._rows(xdot)

    def _entropy_variable_step(self, x, y):
        """Turn Newton's update of f into the same update of the entropy variable η = log(f/τ).

        Newton's correction δf = −y linearises f(η) around the current state; applying it to η
        instead (η ← η + δf/(fτ), f ← f(η)) is Newton's method in the entropy variable, which
        keeps f positive and converges where the additive update in f overshoots in the far
        tails (the collision term there behaves like log f). PETSc then takes w = x − y.
        """
        mix = self.mixture
        X = self._rows(x)
        Y = y.getArray().reshape(self.n, self.size)
        Xa = self.admissible(X)
        # the η-update is for the body of the distribution; values outside the domain of η, and
        # far-tail values (below 1e-8 of the species' peak, where transport round-off alone exceeds
        # them), keep the additive update
        inside = Xa == X
        for Xi, Ii in zip(mix.split(X), mix.split(inside)):
            Ii &= Xi >= 1e-8 * np.max(Xi, axis=-1, keepdims=True)
        mob = Xa * (1.0 + mix.alphas * Xa)
        step = np.where(inside, -Y / mob, 0.0)
        self._last_additive = bool(np.max(np.abs(step), initial=0.0) < 1e-2)   # a rank may own no rows
        if self._last_additive:
            # small relative changes keep the additive Newton update: (I − Δt J)δ = −G makes the
            # invariants of the new state equal those of the old one to round-off
            return False
        # at most a factor e² per iteration and node: Newton overshoots in the stiff tails otherwise
        step = np.clip(step, -2.0, 2.0)
        eta = mix.entropy_variable(Xa) + step
        new = np.empty_like(X)
        for Ei, Ni, s in zip(mix.split(eta), mix.split(new), mix.species):
            Ni[...] = from_entropy_variable(Ei, s.alpha)
        Y[...] = np.where(inside, X - new, Y)
        return False

    def _converged(self, snes, its, norms):
        """PETSc's tests (atol, rtol, stol, max_it), accepted only after an additive Newton update.

        Conservation is exact when the last update solves (I − Δt J)δ = −G additively (see
        :meth:`_entropy_variable_step`); a solve ending on an entropy-variable update would leave
        the invariants off by the size of the residual. The norms are global; whether the update was
        additive is decided per rank, so it is reduced (additive on every rank) before the decision,
        which every rank must take alike.
        """
        from mpi4py import MPI
        xnorm, ynorm, fnorm = norms
        R = PETSc.SNES.ConvergedReason
        rtol, atol, stol, max_it = snes.getTolerances()
        if its == 0:
            self._fnorm0 = fnorm
            self._last_additive = False
            return R.CONVERGED_FNORM_ABS if fnorm <= atol else R.CONVERGED_ITERATING
        if not np.isfinite(fnorm):
            return R.DIVERGED_FNORM_NAN
        if snes.getComm().tompi4py().allreduce(bool(self._last_additive), op=MPI.LAND):
            if fnorm <= atol:
                return R.CONVERGED_FNORM_ABS
            if fnorm <= rtol * self._fnorm0:
                return R.CONVERGED_FNORM_RELATIVE
            if ynorm <= stol * xnorm:
                return R.CONVERGED_SNORM_RELATIVE
        if its >= max_it:
            return R.DIVERGED_MAX_IT
        return R.CONVERGED_ITERATING

    def _damped_entropy_step(self, x, y):
        """Newton's update of a homogeneous collision stage (IMEX), made in the entropy variable,
        damped per node and followed by an exact restoration of the invariants.

        Newton's correction δf = −y becomes δη = δf/(fτ) and f ← f(η + δη) (Newton's method in the
        entropy variable: f stays positive whatever the step). In the far tails, where f is many
        orders of magnitude below the values at the quadrature points of its cells, the η-block is
        nearly singular and its Newton step meaningless; such a node's step is cut to
        ``ETA_STEP_LIMIT`` and its Levenberg–Marquardt damping raised (it decays again once its
        steps stay within the limit), so the solve holds it back consistently instead of letting it
        wander and disturb the body of the distribution.

        Conservation does not rest on the last update being additive: the new state is moved along
        the collision invariants in η (:meth:`_restore_invariants`), which the brackets do not see,
        until Σ W ψ F = 0 exactly for the new state.
        """
        mix = self.mixture
        X = self._rows(x)
        Y = y.getArray().reshape(self.n, self.size)
        # values outside the domain of η keep the additive update; positive values below the floor
        # of :meth:`admissible` (the collision term sees them lifted) take the η-update from their
        # own value, so they stay positive
        inside = (X > 0) & ((X < 1) | (mix.alphas >= 0))
        Xa = np.where(inside, X, 0.5)
        mob = Xa * (1.0 + mix.alphas * Xa)
        with np.errstate(over="ignore"):
            step = np.where(inside, -Y / mob, 0.0)
        over = np.abs(step) > ETA_STEP_LIMIT
        mu = self._block_pc.damping
        if mu is None:
            mu = np.zeros_like(X)
        mu = np.where(over, np.maximum(DAMPING_GROWTH * mu, 1.0), mu / DAMPING_DECAY)
        mu[mu < DAMPING_FLOOR] = 0.0
        self._block_pc.set_damping(mu)
        eta = mix.entropy_variable(Xa) + np.clip(step, -ETA_STEP_LIMIT, ETA_STEP_LIMIT)
        new = np.where(inside, self._from_eta(eta), X - Y)
        # the invariants the exact stage solution has: Σ W ψ F(new) = Σ W ψ F(x) + shift Σ W ψ (new − x)
        # (Σ W ψ C = 0 for every state), F(x) being the residual SNES holds for x
        F = self.ts.getSNES().getFunction()[0]
        weighted = mix.weights[:, None] * mix.invariants
        target = X @ weighted - (self._rows(F) @ weighted) / self._shift
        Y[...] = X - self._restore_invariants(new, target, inside)
        return False

    def _from_eta(self, eta: np.ndarray) -> np.ndarray:
        out = np.empty_like(eta)
        for Ei, Oi, s in zip(self.mixture.split(eta), self.mixture.split(out), self.mixture.species):
            Oi[...] = from_entropy_variable(Ei, s.alpha)
        return out

    def _restore_invariants(self, X: np.ndarray, target: np.ndarray, movable: np.ndarray,
                            iterations: int = 8) -> np.ndarray:
        """X moved to f(η + Ψλ) per row, λ such that Σ_k W_k ψ(v_k) f_k = ``target`` (Newton on λ);
        only the ``movable`` entries (positive, inside the domain of η) change.

        Ψ are the collision invariants (number per species, momentum, energy): the brackets
        annihilate them, so the shift changes the collision term only through the mobilities, by
        the size of the (small) defect it removes.
        """
        mix = self.mixture
        psi = mix.invariants
        weighted = mix.weights[:, None] * psi
        movable = movable & (X > 0)
        eta = mix.entropy_variable(np.where(movable, X, 0.5))
        scale = np.abs(X) @ np.abs(weighted) + 1e-300
        for _ in range(iterations):
            defect = X @ weighted - target
            if np.all(np.abs(defect) <= 4e-16 * scale):
                break
            mob = np.where(movable, X * (1.0 + mix.alphas * X), 0.0)
            gram = np.einsum("ks,nk,kt->nst", weighted, mob, psi)
            eta = eta - np.linalg.solve(gram, defect[:, :, None])[:, :, 0] @ psi.T
            X = np.where(movable, self._from_eta(eta), X)
        return X

    def _converged_local(self, snes, its, norms):
        """Convergence of a homogeneous IMEX collision stage: PETSc's tests (atol, rtol, stol when
        no node is damped, max_it), or the residual below the step's own error tolerance.

        Every update restores the invariants exactly (:meth:`_damped_entropy_step`), so any
        iterate may be accepted. The second test accepts the stage once the residual norm has
        dropped by ``newton_rtol``, no longer falls tenfold per iteration, and |F_k|/shift (the
        state error the residual stands for) is below ``newton_error_fraction`` × (atol + rtol |f_k|)
        at every node, with the TS tolerances: in the far tails, where the entropy-variable system
        is nearly singular, Newton's residual stalls at values far below anything the time step
        resolves, while the relative test asks for 1e-12 of the first residual. The entropy stays
        monotone: the residual is orthogonal to the invariants, so its entropy error is second
        order, ~ |F|/|F_0| of the stage's dissipation.
        """
        from mpi4py import MPI
        xnorm, ynorm, fnorm = norms
        R = PETSc.SNES.ConvergedReason
        rtol, atol, stol, max_it = snes.getTolerances()
        if its == 0:
            self._fnorm0 = self._fnorm_last = fnorm
            self._block_pc.set_damping(None)
            return R.CONVERGED_FNORM_ABS if fnorm <= atol else R.CONVERGED_ITERATING
        if not np.isfinite(fnorm):
            return R.DIVERGED_FNORM_NAN
        if fnorm <= atol:
            return R.CONVERGED_FNORM_ABS
        if fnorm <= rtol * self._fnorm0:
            return R.CONVERGED_FNORM_RELATIVE
        # the step-size test only without damping: a held-back tail node's small step does not
        # mean a solved stage
        mu = self._block_pc.damping
        undamped = mu is None or not np.any(mu > 0)
        if snes.getComm().tompi4py().allreduce(bool(undamped), op=MPI.LAND) and ynorm <= stol * xnorm:
            return R.CONVERGED_SNORM_RELATIVE
        stalled = fnorm > 0.1 * self._fnorm_last       # no longer converging fast (PETSc's rtol in reach otherwise)
        self._fnorm_last = fnorm
        if (self._newton_error_fraction > 0 and self._shift and stalled
                and fnorm <= self._newton_rtol * self._fnorm0):
            ts_rtol, ts_atol = self.ts.getTolerances()
            ts_rtol = ts_rtol if np.isscalar(ts_rtol) else self._rows(ts_rtol)
            ts_atol = ts_atol if np.isscalar(ts_atol) else self._rows(ts_atol)
            X = self._rows(snes.getSolution())
            F = self._rows(snes.getFunction()[0])
            small = np.all(np.abs(F) / self._shift
                           <= self._newton_error_fraction * (ts_atol + ts_rtol * np.abs(X)))
            if snes.getComm().tompi4py().allreduce(bool(small), op=MPI.LAND):
                return R.CONVERGED_USER
        if its >= max_it:
            return R.DIVERGED_MAX_IT
        return R.CONVERGED_ITERATING

    def _block_diagonal_matrix(self) -> PETSc.Mat:
        bs, n = self.size, self.n
        J = PETSc.Mat().createBAIJ(((n * bs, None), (n * bs, None)), bs, nnz=(1, 0),
                                   comm=self.phase.mesh.comm)
        J.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, True)
        J.setUp()
        return J

    def _ijacobian(self, ts, t, x, xdot, shift, J, P):
        self._shift = float(shift)
        X = self._rows(x)
        if self.matrix_free:                   # J: PETSc's finite differences; P: shift − r L_BGK per node
            Xa = self.admissible(X)
            # the loss terms −ν f and the BGK-type relaxation of the moments (no dense blocks)
            frequency = self._rate_weighted_sum(np.zeros_like(Xa), lambda op: (
                op.loss_frequency(Xa) if op.explicit_only else -np.diagonal(op.jacobian(Xa), axis1=1, axis2=2)))
            self._block_pc.update(self._shift, frequency, Xa)
            if J != P:
                J.assemble()
            return
        blocks = -self.collision_jacobian(X)
        blocks[:, np.arange(self.size), np.arange(self.size)] += shift
        self._block_pc.update(blocks, self.admissible(X))
        start = P.getOwnershipRange()[0] // self.size
        P.setValuesBlockedCSR(np.arange(self.n + 1, dtype=PETSc.IntType),
                              np.arange(start, start + self.n, dtype=PETSc.IntType),
                              blocks.reshape(-1))
        P.assemble()
        if J != P:
            J.assemble()

    def _prestep(self, ts):
        if not self.problem.collisions:
            return
        X = self.admissible(self._rows(ts.getSolution()))
        for op, _ in self.problem.collisions:
            op.freeze_tails(X)

    # ------------------------------------------------------------------ monitoring
    def _monitor(self, ts, step, t, x):
        """After every step: refuse a non-finite state (on every rank if any rank has one), then the
        user's monitors."""
        from dgkinetic.collective import agree
        X = self._rows(x)
        with agree(self.phase.mesh.comm):
            if not np.all(np.isfinite(X)):
                raise NonPhysicalStateError(f"non-finite state at t={t:.6g} (step {step})")
        for mon in self.monitors:
            mon(self, step, t, X)

    # ------------------------------------------------------------------ driving
    def solve(self, t_end: float, dt: float, t0: float = 0.0, max_steps: int = 10 ** 9) -> fd.Function:
        """Advance the state from t0 to t_end.

        Parameters
        ----------
        t_end : float
            Final time (by default the last step is shortened to land on it).
        dt : float
            The (initial) step; with an adaptive controller it is also capped at the stability
            limit (:meth:`stable_step`) unless ``ts_adapt_dt_max`` is given.
        t0 : float
            Start time.
        max_steps : int
            Largest number of steps.

        Returns
        -------
        Function
            :attr:`state`, updated in place.
        """
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
            self._limit_adaptive_step()
            petsctools.set_from_options(ts)
            self._from_options = True
        if self._step_limit is not None:
            ts.setTimeStep(min(dt, self._step_limit))
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

    def _limit_adaptive_step(self) -> None:
        """Keep an adaptive controller inside the stability region of the explicit part.

        An error-based controller alone grows the step past the stability limit of transport
        (the error estimate of a steady state is zero) and then chatters there, rejecting steps
        and polluting the solution at the level of its tolerance. The largest step is therefore
        capped at :meth:`stable_step` (the option ``ts_adapt_dt_max``) unless the user sets it.
        """
        self._step_limit = None
        if str(self.parameters.get("ts_adapt_type", "basic")).lower() == "none" or "ts_adapt_dt_max" in self.parameters:
            return
        limit = self.stable_step()
        if limit < MIN_STABLE_STEP:
            raise InputError(f"explicit stepping: the explicit terms are stable only below Δt = {limit:.1e} (the "
                             "collisions' stiffness: the far tails of the weak Boltzmann form reach |rhs/f| ~ 1e17); "
                             "treat the collisions implicitly (ts_type arkimex) or use form \"collocation\" or "
                             "\"spectral\"")
        if math.isfinite(limit):
            petsctools.set_default_parameter(self.ts, "ts_adapt_dt_max", limit)
            self.parameters["ts_adapt_dt_max"] = limit
            self._step_limit = limit
            logger.info("adaptive step capped at the stability limit %.4g", limit)

    def stable_step(self) -> float:
        """Largest step for which the explicitly treated terms are stable with this TS method.

        ρ, the spectral radius of the explicit part, is estimated by power iteration: transport
        (:meth:`~dgkinetic.transport.Transport.spectral_radius`) plus, for fully explicit
        stepping, the collisions linearised at the current state. The step is
        ``STABILITY_SAFETY · r / ρ`` with r the method's :data:`HALF_DISC_RADIUS`; ``inf`` when
        nothing is explicit.

        Returns
        -------
        float
        """
        rho = 0.0
        if self.transport is not None and self.kind in ("explicit", "imex"):
            rho += self.transport.spectral_radius()
        if self.kind == "explicit" and self.problem.collisions:
            rho += self.collision_spectral_radius(self.rows)
        if rho == 0.0:
            return math.inf
        ts_type = str(self.parameters.get("ts_type")).lower()
        subtype = str(self.parameters.get(f"ts_{ts_type}_type", {"rk": "3bs"}.get(ts_type, ""))).lower()
        radius = HALF_DISC_RADIUS.get(f"{ts_type}:{subtype}", UNLISTED_HALF_DISC_RADIUS)
        return STABILITY_SAFETY * radius / rho

    def collision_spectral_radius(self, X: np.ndarray, iterations: int = 12) -> float:
        """Largest |λ| of Σ rate ∂C/∂f at the rows X over all ranks (power iteration with
        finite-difference Jacobian-vector products; directions X ⊙ z keep the probes positive).

        Parameters
        ----------
        X : ndarray, shape (n, size)
            State rows (this rank's); collective.
        iterations : int
            Power iterations.

        Returns
        -------
        float
            The last growth factor ‖J d‖/‖d‖, the same on every rank.
        """
        comm = self.phase.mesh.comm
        X = self.admissible(X)
        base = self.collision_rhs(X)
        rng = np.random.default_rng(11 + comm.rank)
        d = X * rng.standard_normal(X.shape)

        growth = 0.0
        scale = global_norm(X, comm)
        for _ in range(iterations):
            nd = global_norm(d, comm)
            if nd == 0.0:
                return 0.0
            h = 1e-7 * scale / nd
            d = (self.collision_rhs(X + h * d) - base) / h
            growth = global_norm(d, comm) / nd
        return growth

    @property
    def time(self) -> float:
        return self.ts.getTime()

    @property
    def rows(self) -> np.ndarray:
        """Owned rows of the current state (n_owned, size), read-only."""
        return self.state.dat.data_ro.reshape(self.n, self.size)
