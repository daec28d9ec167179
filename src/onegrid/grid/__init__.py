"""The city grid: areas, unit grids, the H3 index, point location and responsibility."""
