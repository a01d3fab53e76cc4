"""The work behind the routes, free of HTTP details but for the request that holds the
cache and the heavy-request limiter; the maths is core's:

- arrays: the array routes' seed functions on JSON arrays;
- layer: the image layer's pipeline (conv, ReLU, pooling, backward) through core;
- steps: a page of a stage's step records, and the running totals;
- image: working images and layer results, cached, and the image routes' answers;
- bounds: the limits checked before any work (413 / 422 naming the limit);
- cache: the bounded LRU cache of working images and results;
- heavy: how many computations run at once (503 beyond the queue);
- lesson, learn: Learn mode's lesson, and the mistakes and .npy diagnosis;
- network, network_jobs, network_weights: the small CNN's runs, training jobs, weight files.
"""
