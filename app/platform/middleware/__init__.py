"""ASGI middleware wrapped around every request (installed in app.main.create_app):

- body_limit: request bodies within the largest upload limit (multipart) or max_json_bytes,
  and body_timeout_s (413, 408), before any route reads them;
- gzip: compression of answers for clients that accept it;
- security_headers: the security headers, the Content-Security-Policy and Server-Timing.
"""
