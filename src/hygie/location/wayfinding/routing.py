"""Shortest routes on a :class:`VenueGraph` (Dijkstra with heapq, weights in seconds).

Two walking profiles: the standard one at 1.2 m/s (4.3 km/h, an unhurried adult) and the
accessible one at 0.8 m/s that never takes stairs or escalators. An elevator costs a wait
plus a few seconds per level, so a single flight of stairs can beat it on foot.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from hygie.location.wayfinding.graph import Edge, VenueGraph

ELEVATOR_WAIT_S = 30.0
ELEVATOR_S_PER_LEVEL = 5.0
STAIRS_SLOWDOWN = 2.0  # climbing a flight takes twice as long as walking the same length


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    speed_m_s: float
    allowed: frozenset[str]

    def seconds(self, edge: Edge) -> float:
        if edge.kind == "elevator":
            return ELEVATOR_WAIT_S + ELEVATOR_S_PER_LEVEL * edge.levels
        if edge.kind in ("stairs", "escalator"):
            return edge.length_m * STAIRS_SLOWDOWN / self.speed_m_s
        return edge.length_m / self.speed_m_s


STANDARD = Profile("standard", 1.2, frozenset({"walk", "stairs", "escalator", "elevator"}))
ACCESSIBLE = Profile("accessible", 0.8, frozenset({"walk", "elevator"}))


@dataclass(frozen=True, slots=True)
class Hop:
    """One node of a route and the edge that reached it (None for the first)."""

    node: int
    edge: Edge | None


def shortest_path(
    graph: VenueGraph, sources: dict[int, float], target: int, profile: Profile
) -> tuple[float, list[Hop]] | None:
    """The fastest path from any source (with its starting cost) to ``target``, or None."""
    best = [math.inf] * len(graph.nodes)
    came: dict[int, tuple[int, Edge]] = {}
    queue: list[tuple[float, int]] = []
    for node, cost in sources.items():
        best[node] = cost
        queue.append((cost, node))
    heapq.heapify(queue)
    adjacency = graph.adjacency
    while queue:
        cost, node = heapq.heappop(queue)
        if node == target:
            break
        if cost > best[node]:
            continue
        for edge in adjacency[node]:
            if edge.kind not in profile.allowed:
                continue
            candidate = cost + profile.seconds(edge)
            if candidate < best[edge.target]:
                best[edge.target] = candidate
                came[edge.target] = (node, edge)
                heapq.heappush(queue, (candidate, edge.target))
    if best[target] == math.inf:
        return None
    hops = [Hop(target, None)]
    while hops[-1].node in came:
        previous, edge = came[hops[-1].node]
        hops[-1] = Hop(hops[-1].node, edge)
        hops.append(Hop(previous, None))
    hops.reverse()
    return best[target], hops
