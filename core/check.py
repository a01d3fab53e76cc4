"""A shim: the learner's checker lives in cli/check.py (it spawns processes, sets signals and
knows the page's links, which core's pure layer does not). This module keeps its public
names where learners and the course notes find them:

    python -m core.check solution.py [--json]        # = convstep check solution.py
    from core.check import check; check(globals())
    from core.check import show; show(conv_forward)  # your loop beside the exercise's (Jupyter)
"""

from cli.check import (
    BASE_URL,
    TIMEOUT_S,
    check,
    check_file,
    describe_difference,
    format_report,
    load_file,
    main,
)
from cli.links import flavour_of, page_link
from cli.notebook import show

__all__ = ["BASE_URL", "TIMEOUT_S", "check", "check_file", "describe_difference",
           "flavour_of", "format_report", "load_file", "main", "page_link", "show"]

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m core.check"))
