"""dgkinetic: multi-species kinetic equations (Boltzmann, Landau) on Firedrake DG phase space.

What a user writes is importable from here::

    from dgkinetic import (Species, VelocityGrid, Mixture, PhaseSpace, KineticProblem, KineticSolver,
                           Diffuse, Specular, Boltzmann, HardSpheres, Landau)

Species, grids, mixtures and equilibria need no PETSc; the names that do (phase space, solver,
walls' transport, collision operators, GENERIC structure) are imported on first use, so that
``import dgkinetic`` does not start PETSc before a program has set its command line.
"""
from importlib import import_module

from dgkinetic.errors import InputError, NonPhysicalStateError  # noqa: F401
from dgkinetic.species import Species  # noqa: F401
from dgkinetic.velocity import VelocityGrid  # noqa: F401
from dgkinetic.mixture import Mixture  # noqa: F401
from dgkinetic.equilibrium import equilibrium, maxwellian  # noqa: F401

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access)
_LAZY = {
    "PhaseSpace": "dgkinetic.phase_space", "homogeneous_phase_space": "dgkinetic.phase_space",
    "KineticProblem": "dgkinetic.solver", "KineticSolver": "dgkinetic.solver",
    "SteadySolver": "dgkinetic.steady", "Channel": "dgkinetic.channel",
    "Transport": "dgkinetic.transport", "StrangSplitting": "dgkinetic.splitting",
    "Specular": "dgkinetic.walls", "Diffuse": "dgkinetic.walls", "MaxwellWall": "dgkinetic.walls",
    "Inflow": "dgkinetic.walls", "Outflow": "dgkinetic.walls",
    "Landau": "dgkinetic.collisions.landau", "Boltzmann": "dgkinetic.collisions.boltzmann",
    "CollocationBoltzmann": "dgkinetic.collisions.collocation",
    "SpectralBoltzmann": "dgkinetic.collisions.spectral",
    "MaxwellMolecules": "dgkinetic.collisions.kernels", "HardSpheres": "dgkinetic.collisions.kernels",
    "VariableHardSpheres": "dgkinetic.collisions.kernels", "UserKernel": "dgkinetic.collisions.kernels",
    "grazing_family": "dgkinetic.collisions.kernels",
    "GenericStructure": "dgkinetic.generic", "fisher_information": "dgkinetic.generic",
    "Diagnostics": "dgkinetic.diagnostics",
    "run_homogeneous": "dgkinetic.homogeneous", "invariant_drift": "dgkinetic.homogeneous",
    "exchange_rate_error": "dgkinetic.resolution",
}

__all__ = ["InputError", "NonPhysicalStateError", "Species", "VelocityGrid", "Mixture", "equilibrium",
           "maxwellian", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dgkinetic' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
