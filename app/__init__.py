"""skyspace: a geospatial data service for UAV–satellite cross-view data."""

__version__ = "0.1.0"
