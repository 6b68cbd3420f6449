"""geo: a fast, general engine — read OSM, project, build a walk network, snap, route.

Nothing in this package knows about Shanghai's plan; any city's extract works.
"""
