"""The sensing rules in plain Python: units, devices, readings, alert rules, GBFS, bikes."""
