"""Network: a small CNN on real digits, every layer forward and backward, live training.

- routes.py: HTTP only (/network, /api/network/...);
- schemas.py: the Pydantic models of its requests and answers;
- service.py: runs, step pages, weight sets by id, the network's per-worker state;
- jobs.py: training jobs.
"""
