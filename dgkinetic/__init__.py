"""dgkinetic: multi-species kinetic equations (Boltzmann, Landau) on Firedrake DG phase space."""
from dgkinetic.errors import InputError, NonPhysicalStateError  # noqa: F401
from dgkinetic.species import Species  # noqa: F401
from dgkinetic.velocity import VelocityGrid  # noqa: F401
from dgkinetic.mixture import Mixture  # noqa: F401
from dgkinetic.equilibrium import equilibrium, maxwellian  # noqa: F401

__version__ = "0.1.0"
