"""Explore's work, free of HTTP details but for the request that holds the cache and the
heavy-request limiter; the maths is core's:

- arrays: the array routes' seed functions on JSON arrays;
- layer: the image layer's pipeline (conv, ReLU, pooling, backward) through core;
- steps: a page of a stage's step records, and the running totals;
- image: working images and layer results, cached, and the image routes' answers;
- bounds: the layer's settings within the limits and what running it costs;
- geometry: /api/geometry's answer, the same checks as /api/image without the work;
- filters: a weight file's conv tensors (or the network's) as Explore's filters;
- page: the Explore page's boot data.
"""
