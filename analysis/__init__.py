"""Measurements of stored runs, kept apart from the simulation that produced them."""
