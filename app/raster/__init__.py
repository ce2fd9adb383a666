"""Imagery: source confinement, scene inspection and COG conversion, tile reading and rendering."""
