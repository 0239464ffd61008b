"""Collision operators acting on blocks of state rows (one row per space node)."""
from dgkinetic.collisions.base import CollisionOperator  # noqa: F401
