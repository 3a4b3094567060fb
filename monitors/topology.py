"""Which devices each device depends on to be reached: the uplink graph, as plain data.

The registry will produce this from its uplink table; until then callers build it from a mapping.
A device with several uplinks (redundant paths) is cut off only when *every* uplink is down.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType


class TopologyError(ValueError):
    """The uplink data cannot describe a network: a device is its own uplink or uplinks form a loop."""


class Topology:
    """Immutable device -> uplinks graph with its reverse (device -> devices directly behind it)."""

    __slots__ = ("_dependents", "_uplinks")

    def __init__(self, uplinks: Mapping[int, Iterable[int]] | None = None) -> None:
        forward: dict[int, tuple[int, ...]] = {}
        reverse: dict[int, list[int]] = {}
        for device_id, ups in (uplinks or {}).items():
            unique = tuple(dict.fromkeys(ups))
            if device_id in unique:
                raise TopologyError(f"uplinks[{device_id}]: a device cannot be its own uplink")
            forward[device_id] = unique
            for up in unique:
                reverse.setdefault(up, []).append(device_id)
        self._uplinks = MappingProxyType(forward)
        self._dependents = MappingProxyType({k: tuple(sorted(v)) for k, v in reverse.items()})
        self._check_acyclic()

    def uplinks_of(self, device_id: int) -> tuple[int, ...]:
        return self._uplinks.get(device_id, ())

    def dependents_of(self, device_id: int) -> tuple[int, ...]:
        return self._dependents.get(device_id, ())

    def descendants_of(self, device_id: int) -> set[int]:
        """Every device that reaches the centre through ``device_id`` on at least one path."""
        seen: set[int] = set()
        stack = list(self.dependents_of(device_id))
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(self.dependents_of(current))
        return seen

    def as_mapping(self) -> Mapping[int, tuple[int, ...]]:
        return self._uplinks

    def _check_acyclic(self) -> None:
        """Iterative three-colour DFS: a loop would make 'behind' meaningless and recursion unbounded."""
        state: dict[int, int] = {}  # 1 = on the current path, 2 = done
        for start in self._uplinks:
            if state.get(start):
                continue
            stack: list[tuple[int, int]] = [(start, 0)]
            state[start] = 1
            while stack:
                node, index = stack[-1]
                ups = self.uplinks_of(node)
                if index < len(ups):
                    stack[-1] = (node, index + 1)
                    nxt = ups[index]
                    mark = state.get(nxt)
                    if mark == 1:
                        raise TopologyError(f"uplinks[{node}]: loop through device {nxt}")
                    if mark is None:
                        state[nxt] = 1
                        stack.append((nxt, 0))
                else:
                    state[node] = 2
                    stack.pop()
