"""Explore's Pydantic models, the shapes /docs shows (no computing here; the shared ones are
in app/platform/schemas/):

- arrays: requests and answers of the array routes, one pair per seed function;
- image: the layer's settings and the image, steps and arrays requests and answers;
- geometry: /api/geometry's question and answer;
- filters: conv weights as Explore's filters.
"""
