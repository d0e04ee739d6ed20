"""Behaviour events and reports. `track(kind, user=, store=, city=, channel=, device=, props=)`
records an event in microseconds and never raises (see buffer.py)."""

from .buffer import track, track_request

__all__ = ["track", "track_request"]
