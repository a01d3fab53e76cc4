"""convstep's commands: what runs on a person's machine around core and app, apart from
core's pure layer (no processes, signals or files there).

    __main__.py   the `convstep` command (= python -m cli): serve, check, train
    check.py      the learner's checker: their file in a child process, each function judged
    learner.py    their file or notebook, loaded as far as it runs here
    contract.py   what the returns must hold besides the numbers; NumPy's pitfalls
    report.py     the report as text, or as HTML in Jupyter
    links.py      the Learn page's deep link that the checker prints (the server uses it too)
    notebook.py   show(fn): a function's steps beside the exercise's, a Jupyter widget
    esm.py        the widget's front end and the kit inlined into one ES module (no bundler)
    train.py      retraining the network's shipped weights

`python -m core.check`, `from core.check import check, show` and `python -m core.train` keep
working: core/check.py re-exports cli/check.py, core/train.py's command is cli/train.py's.
"""
