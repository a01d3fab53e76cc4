"""convstep's web server: FastAPI around core/ (the maths lives in core, never here).

Where things live:

    main.py        create_app(): routers, error handlers, middleware, /docs
    config.py      Settings: every limit, read from CONVSTEP_* variables (network_config.py:
                   the network routes' CONVSTEP_NET_* limits)
    deps.py        the dependencies and parameter types that routes share (SettingsDep, ...)
    routes/        HTTP only: each route validates, calls a service, returns a schema
    schemas/       the Pydantic models of every request and answer (what /docs shows)
    services/      the work: running core, caching results, checking limits before work
    encoding.py    arrays as JSON (ARR: base64 float32, or one byte per value for drawing)
    responses.py   chunked JSON answers and their gzip
    middleware/    around every request: body limits, gzip, security headers
    errors.py      client errors as 4xx JSON
    imaging.py     uploads decoded into working images (Pillow), multipart.py the form
    samples.py     the built-in sample images
    protocol.py    uvicorn's HTTP protocol with a deadline for request heads
    npy.py         .npy headers: the shapes NumPy can build, from the header alone
    memory.py      glibc's malloc told to give freed arrays back to the system
    __main__.py    python -m app: serve with uvicorn
"""
