"""Model providers behind one interface (``sim.models.base.Provider``)."""
