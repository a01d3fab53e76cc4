"""The routers, HTTP only (the work is in app/services/, the models in app/schemas/):

- pages: the pages (/, /explore, /learn, with their boot data), /healthz,
  /api/samples[/{name}];
- arrays: one POST /api/<name> per seed function;
- image: POST /api/image (the Explore page's request), /api/steps (further step pages)
  and /api/arrays (arrays fetched later);
- learn: Learn mode's mistakes, their runs on probe cases, the .npy diagnosis;
- network: the small CNN (/api/network...): architecture, runs, step pages, training, weights;
- filters: conv weights as Explore's filters (POST /api/filters for a weight file,
  GET /api/network/filters for a layer of the network's weights).
"""
