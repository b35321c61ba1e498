"""The station agent: brain (prompt, turn schema), programming rules, broadcast loop.

Uses ``sim`` and ``economy``; never ``personafm``.
"""
