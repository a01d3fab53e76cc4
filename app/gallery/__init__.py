"""Gallery: step animations of one op to take away (/gallery, /api/animation[/plan]).

- routes.py: HTTP only; schemas.py: the plan's models;
- service.py: the query checked and bounded before drawing, drawn and encoded once its
  cost is admitted, kept in the steps cache;
- draw.py: Pillow frames from core/animation.py's decisions; encode.py: GIF and APNG
  written one frame at a time; svg.py: one frame as SVG.
"""
