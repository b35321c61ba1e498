"""Kernel: SimPy run loop, event bus, model-call dispatch, seeded RNG, storage.

Nothing in ``sim`` imports ``economy``, ``stations`` or ``personafm``.
"""
