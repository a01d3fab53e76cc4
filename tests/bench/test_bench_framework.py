"""The benchmark framework (bench/): verdicts, tables, and sections that are missing or broken.
Nothing here times anything: speed is measured by `python -m bench`, never by tests."""

import sys

import bench.__main__
from bench.__main__ import run_section
from bench.common import Row, back_to_back, interleaved, side_by_side, table


def test_row_verdicts_follow_the_target_direction():
    assert Row("a", ours=0.7, other=1.0, target="<= 0.8x").verdict == "pass"
    assert Row("a", ours=0.9, other=1.0, target="<= 0.8x").verdict == "**miss**"
    speed_up = Row("b", ours=0.001, other=1.0, target=">= 500x", ratio_kind="other/ours")
    assert speed_up.ratio == 1000 and speed_up.verdict == "pass"
    assert Row("c", ours=1.0, other=None, target="<= 2x").verdict == "not measured"


def test_table_renders_ratios_and_missing_columns():
    text = table([Row("conv", 0.0123, 0.0246, "<= 0.8x"), Row("pool", 0.002, None, "<= 1.5x")],
                 ("case", "ours ms", "torch ms", "ratio"))
    lines = text.splitlines()
    assert lines[0] == "| case | ours ms | torch ms | ratio | target | result |"
    assert lines[2] == "| conv | 12.3 | 24.6 | 0.50x | <= 0.8x | pass |"
    assert lines[3] == "| pool | 2 | – | – | <= 1.5x | not measured |"


def test_interleaved_runs_every_contender_each_round():
    calls = []
    medians = interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                          rounds=3, warmup=1)
    assert calls == ["a", "b"] * 4
    assert set(medians) == {"a", "b"} and all(v >= 0 for v in medians.values())


def test_missing_and_broken_sections_are_reported_not_fatal(tmp_path, monkeypatch):
    assert "Not present yet" in run_section("bench.no_such_section_bench", quick=True)
    package = tmp_path / "benchfake"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "needs_dep.py").write_text("import a_dependency_that_is_not_installed\n")
    (package / "raises.py").write_text("def run(quick):\n    raise RuntimeError('boom')\n")
    (package / "works.py").write_text("def run(quick):\n    return f'## works {quick}'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert "missing `a_dependency_that_is_not_installed`" in run_section(
            "benchfake.needs_dep", quick=True)
        broken = run_section("benchfake.raises", quick=True)
        assert "Failed" in broken and "RuntimeError: boom" in broken
        assert run_section("benchfake.works", quick=True).startswith("## works True")
    finally:
        for name in [m for m in sys.modules if m.startswith("benchfake")]:
            del sys.modules[name]


def test_back_to_back_runs_groups_of_calls_and_counts_every_one():
    calls = []
    medians = back_to_back({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                           rounds=2, calls=3, warmup=1)
    assert calls == (["a"] * 3 + ["b"] * 3) * 3  # a group of one, then the other, interleaved
    assert set(medians) == {"a", "b"} and all(v >= 0 for v in medians.values())


def test_side_by_side_puts_both_measurements_with_their_own_targets():
    plain = Row("conv", 0.009, 0.010, "<= 0.8x")
    paused = Row("conv", 0.007, 0.010, "<= 0.8x")
    text = side_by_side([(plain, paused), (Row("loops", 0.001, None, "<= 1.2x"), None)],
                        ("case", "ours ms", "torch ms"))
    lines = text.splitlines()
    assert lines[0] == ("| case | ours ms | torch ms | plain ratio | target | result | "
                        "paused ratio | target | result |")
    assert lines[2] == ("| conv | 9 | 10 | 0.90x | <= 0.8x | **miss** | 0.70x | <= 0.8x | "
                        "pass |")
    assert lines[3] == "| loops | 1 | – | – | <= 1.2x | not measured | – | – | – |"


def test_only_accepts_the_short_section_name(monkeypatch, capsys):
    ran = []
    monkeypatch.setattr(bench.__main__, "run_section",
                        lambda name, quick: ran.append(name) or f"## {name}")
    assert bench.__main__.main(["--only", "core", "--no-write"]) == 0
    assert ran == ["bench.core_bench"]
    capsys.readouterr()
