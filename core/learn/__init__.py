"""Learn: the exercise's eight functions written once, and everything derived from them.

"Convolutional Model: Step by Step" (zero_pad, conv_single_step, conv_forward, conv_backward,
pool_forward, create_mask_from_window, distribute_value, pool_backward) is written once, as an
annotated source in which every line has an id (source.py). From it come:

- listing.py: the lines as the page shows them (the Learn page receives them in its boot
  data), and edits of named lines (the extras' options, the mistakes);
- exercise.py: the runnable exercise (`Exercise`), with or without bugs, and its step
  generators; core/loops.py's loop twins run it;
- variants.py: the classic mistakes as edits of named lines, their variants and the right and
  buggy lines they show; descriptions.py: their titles and what goes wrong, in words;
- outcomes.py: what a function gave on a probe case and when two outcomes agree;
  differences.py: where two outcomes first differ (step, cell); matching.py: which mistakes
  explain a learner's outcomes (the checker's and the upload's diagnosis).

core/mistakes.py is the public face of the last four (`from core.mistakes import ...`).
This package imports nothing on its own so that core.loops can use exercise.py without a
cycle (core.probes builds its cases with the loop twins).
"""
