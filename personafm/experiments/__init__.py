"""A/B experiments: a grid of (arm, seed) cells over one base scenario, run and compared.

``spec`` reads an experiment file; ``store`` keeps the experiment and its cells in the
run store (so a stopped experiment resumes); ``executors`` run cells in this process,
in a local process pool or on a Ray cluster; ``runner`` drives the grid.
"""
