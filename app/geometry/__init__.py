"""Pure geometry: numpy, shapely and pyproj only; nothing here imports the rest of `app`."""
