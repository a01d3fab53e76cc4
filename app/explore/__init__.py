"""Explore: one conv layer (+ ReLU + pooling) and its backward pass on your own image, window
by window, and the exercise's eight functions on JSON arrays.

- routes/: HTTP only (page: /explore; arrays: one POST /api/<name> per seed function; image:
  /api/image, /api/steps, /api/arrays; geometry: /api/geometry; filters: /api/filters and
  /api/network/filters);
- schemas/: the Pydantic models of those requests and answers (what /docs shows);
- services/: the work, through core.
"""
