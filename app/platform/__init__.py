"""The platform every wing stands on (app/explore, app/learn, app/network import it; it
imports no wing):

- config.py: Settings, every limit read from CONVSTEP_* variables; network_config.py: the
  network routes' CONVSTEP_NET_* limits;
- deps.py: the Annotated dependencies and parameter types routes share (SettingsDep, ...);
- errors.py: ApiError and the handlers that make every client mistake a 4xx JSON;
- middleware/: body limits, gzip, security headers around every request;
- multipart.py: multipart/form-data read in memory (read_upload: every route that takes a
  file, within that route's limit, named in its 413s);
- json_body.py: JSON bodies parsed off the event loop, within the memory budget;
- imaging.py: uploads decoded into working images (Pillow), within the decode budget;
- heavy.py: admission by cost (503 beyond the queue); bounds.py: the limits checked before
  any work and the bytes a request costs;
- cache.py: the bounded LRU cache; memory.py: freed memory back to the system;
- shared.py: state every worker shares (keys with a time to live, sorted sets, a lock,
  publish/subscribe): in this process, or Redis when CONVSTEP_REDIS_URL is set; signals
  that wake waiting requests without holding a thread;
- encoding.py: arrays as JSON (ARR); responses.py: chunked JSON answers and their gzip;
- protocol.py: uvicorn's HTTP protocol with a deadline for request heads;
- samples.py: the built-in sample images (samples/); weights.py: weight files (.safetensors,
  .npz, never a pickle) and the network's weight sets; npy.py: .npy headers, the shapes
  NumPy can build, from the header alone;
- paths.py: where static/ and templates/ are (installed or in a checkout);
- nav.py: the site nav; schemas/: the models several wings share (common: bounded numbers,
  ARR, ErrorOut; steps: the step records; site: health and samples).
"""
