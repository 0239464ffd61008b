"""Exact and limit solutions the numerics are checked against (closed forms of kinetic theory)."""
