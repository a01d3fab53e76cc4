"""The Pydantic models several wings share (no computing here):

- common: bounded numbers and arrays, option names (pad modes, pool modes, tie rules), the
  encoded arrays (ARR) and ErrorOut;
- steps: the step records, one model per stage kind (Explore's pages and the network's);
- site: health and the built-in samples.
"""
