"""Explore's routers, HTTP only (the work is in app/explore/services/, the models in
app/explore/schemas/):

- page: the Explore page (/explore) with its boot data;
- arrays: one POST /api/<name> per seed function;
- image: POST /api/image (the Explore page's request), /api/steps (further step pages)
  and /api/arrays (arrays fetched later);
- geometry: POST /api/geometry, whether /api/image would accept the settings;
- filters: conv weights as Explore's filters (POST /api/filters for a weight file,
  GET /api/network/filters for a layer of the network's weights).
"""
