"""Which OSM ways a pedestrian may use (documented in docs/network.md).

The rules follow osmnx's ``walk`` network filter, with three deliberate changes:

* ``highway=cycleway`` is walkable when ``foot`` is ``yes``/``designated``/``permissive``
  (osmnx drops every cycleway; many shared paths are tagged that way);
* ``highway=trunk`` / ``trunk_link`` are walkable (Shanghai ground-level trunk roads have
  sidewalks); any road with ``motorroad=yes`` is not (elevated expressways are tagged
  ``motorway`` or ``motorroad=yes``), unless ``foot`` explicitly allows walking;
* roads without ``sidewalk`` tags are walkable, and so are roads with ``sidewalk=no``
  (walking on the carriageway edge is legal unless ``foot=no``) — in Shanghai most urban
  roads have sidewalks that are not mapped separately.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_FOOT_ALLOWED = frozenset({"yes", "designated", "permissive", "official"})


@dataclass(frozen=True)
class WalkRules:
    """Tag rules for walkable ways; every field is a documented, overridable choice."""

    excluded_highways: frozenset[str] = frozenset(
        {
            "abandoned",
            "bus_guideway",
            "construction",
            "motorway",
            "motorway_link",
            "no",
            "planned",
            "platform",
            "proposed",
            "raceway",
            "razed",
            "disused",
            "escape",
            "busway",
            "bus_stop",
            "elevator",
            "emergency_bay",
            "rest_area",
            "services",
        }
    )
    needs_foot_tag: frozenset[str] = frozenset({"cycleway", "bridleway"})
    blocked_access: frozenset[str] = frozenset({"private", "no", "customers", "delivery"})
    blocked_foot: frozenset[str] = frozenset({"no", "private", "use_sidepath"})
    blocked_service: frozenset[str] = frozenset({"private"})

    def is_walkable(self, tags: Mapping[str, str]) -> bool:
        """Whether a way with ``tags`` is part of the walk network."""
        highway = tags.get("highway")
        if not highway or highway in self.excluded_highways:
            return False
        if tags.get("area") == "yes":
            return False
        foot = tags.get("foot", "")
        if foot in self.blocked_foot:
            return False
        if foot in _FOOT_ALLOWED:
            return True
        if highway in self.needs_foot_tag:
            return False
        if tags.get("motorroad") == "yes":
            return False
        if tags.get("access", "") in self.blocked_access:
            return False
        return tags.get("service", "") not in self.blocked_service


DEFAULT_WALK_RULES = WalkRules()
