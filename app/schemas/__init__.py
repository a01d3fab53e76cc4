"""The API's Pydantic models, the shapes /docs shows (no computing here):

- common: bounded numbers and arrays, option names (pad modes, pool modes, tie rules), the
  encoded arrays (ARR) and ErrorOut;
- arrays: requests and answers of the array routes, one pair per seed function;
- image: the layer's settings and the image, steps and arrays requests and answers;
- steps: the step records, one model per stage kind;
- pages: health and the built-in samples;
- learn, network: the Learn and network routes' models.
"""
