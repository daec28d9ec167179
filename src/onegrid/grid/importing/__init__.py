"""Reading and checking boundary files (GeoJSON, Shapefile, GeoPackage) before they are stored."""
