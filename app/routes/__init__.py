"""The routers, HTTP only (the work is in app/services/):

- pages: the page (GET /, with its boot data), /healthz, /api/samples[/{name}];
- arrays: one POST /api/<name> per seed function;
- image: POST /api/image (the page's request), /api/steps (further step pages) and
  /api/arrays (arrays fetched later).
"""
