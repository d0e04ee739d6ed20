"""Route optimiser for the pickup-and-delivery problem with time windows (PDPTW).

Pure Python + numpy, no Django imports: the dispatch engine feeds it riders and orders,
the Li & Lim benchmark (``bench/lilim.py``) feeds it the published instances.

- :mod:`.model`     the problem (nodes, requests, vehicles, pluggable distance/time)
- :mod:`.routes`    the solver's fast route evaluation and insertion search
- :mod:`.alns`      construction, route elimination and Adaptive Large Neighbourhood Search
- :mod:`.checker`   an independent feasibility checker (shares no code with the solver)
"""

from .alns import Solution, solve
from .model import Problem, euclidean_matrix, haversine_matrix, load_lilim

__all__ = ["Problem", "Solution", "euclidean_matrix", "haversine_matrix", "load_lilim", "solve"]
