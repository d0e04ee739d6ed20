"""Explicit state machines: a table of allowed transitions and who may trigger each.

Pure Python, no Django: the order, payment and delivery apps each declare a table and
ask it whether an (actor role, from, to) step is legal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    roles: frozenset[str]
    action: str


class StateMachine:
    def __init__(self, transitions: Iterable[Transition]) -> None:
        self._by_action: dict[tuple[str, str], Transition] = {}
        for t in transitions:
            key = (t.action, t.source)
            if key in self._by_action:
                raise ValueError(f"duplicate transition {key}")
            self._by_action[key] = t

    def find(self, *, action: str, source: str) -> Transition | None:
        return self._by_action.get((action, source))

    def actions_from(self, source: str, role: str) -> list[str]:
        return sorted(
            t.action for (a, s), t in self._by_action.items() if s == source and role in t.roles
        )

    @property
    def transitions(self) -> list[Transition]:
        return list(self._by_action.values())


def T(source: str, target: str, action: str, *roles: str) -> Transition:  # noqa: N802
    return Transition(source=source, target=target, roles=frozenset(roles), action=action)
