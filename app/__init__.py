"""convstep's web server: FastAPI around core/ (the maths lives in core, never here).

One platform and the wings (Explore, Learn, Network, Gallery). A wing imports the platform
and core, never another wing (tests/app/test_wing_rule.py); main.py and site.py, which
assemble the site, are the only modules that import several wings.

    main.py        create_app(): routers, error handlers, middleware, /docs
    site.py        the routes above the wings: / (Learn, or Explore for /?<state>), /healthz,
                   /api/samples[/{name}]
    __main__.py    python -m app: serve with uvicorn

    platform/      what every wing uses (see its __init__): settings (config.py,
                   network_config.py), deps.py (every shared Annotated dependency), errors,
                   middleware/, multipart uploads, imaging (Pillow), heavy.py (admission by
                   cost) and bounds.py (limits and costs), cache, memory, encoding (ARR),
                   responses, protocol, samples, weight files, .npy headers, the site nav,
                   shared schemas

    explore/       /explore and its API: the eight array routes, /api/image, /api/steps,
                   /api/arrays, /api/geometry, /api/filters (routes/, schemas/, services/)
    learn/         / and /learn, /api/learn/...: the lesson (lesson.py), the mistakes and
                   the .npy diagnosis (service.py); routes.py, schemas.py
    network/       /network and /api/network/...: runs, step pages, training jobs (jobs.py),
                   weight uploads; routes.py, schemas.py, service.py
    gallery/       /gallery and GET /api/animation[/plan]: step animations of one op
"""
