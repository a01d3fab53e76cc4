"""static/js/kit/geometry.js, imported in the page, against core over a table of cases.

The page's one geometry module does index arithmetic only (which step is where, which cells
a window taps, which outputs cover a cell, when a backward map's cell is complete, where a
pad cell copies from, the crop of dA_prev_pad). Every answer here is compared with what core
computes: conv_geometry / pool_geometry, the window corners of the traces' step records,
core.padding.source_index, and conv_backward's dA_prev.
"""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.padding import source_index

# (n_H_prev, n_W_prev, f, stride, pad, dilation): pad 0/1/2, stride 1/2/3, dilation 1/2/3,
# f == n, f = 1, non-square inputs, windows that leave rows or columns over (dropped)
CONV_CASES = [
    (5, 7, 3, 1, 0, 1),
    (5, 7, 3, 2, 1, 1),
    (5, 7, 3, 3, 2, 1),
    (6, 4, 2, 2, 0, 1),
    (4, 4, 4, 1, 0, 1),  # f == n: one window
    (3, 5, 3, 1, 2, 1),  # f == n_H, pad 2
    (3, 6, 1, 2, 0, 1),  # f = 1, stride 2: every other cell
    (5, 7, 3, 2, 1, 2),  # dilation 2
    (7, 5, 2, 3, 2, 2),
    (8, 9, 2, 1, 1, 3),  # dilation 3, taps three apart
    (6, 7, 2, 3, 0, 1),  # stride > f: gaps between windows
]
PAD_MODES = ["constant", "reflect", "edge"]
# (n_H_prev, n_W_prev, f, stride): overlapping, gapped, f == n, non-square
POOL_CASES = [(4, 4, 2, 2), (5, 7, 3, 1), (5, 7, 3, 2), (6, 5, 2, 3), (4, 6, 4, 1), (7, 3, 1, 2)]
N_C = 2  # two filters / channels: the step order interleaves them

GEOMETRY_JS = """async ({geometry, steps, shape, crop}) => {
    const G = await import('/static/js/kit/geometry.js');
    const [nH, nW, nC] = shape;
    const geo = G.stageGeometry(geometry);
    const out = {geo, positions: [], indices: [], windows: []};
    for (const s of steps) {
        out.positions.push(G.positionOf(s.index, nH, nW, nC));
        out.indices.push(G.indexOf(s.h, s.w, s.c, nW, nC));
        out.windows.push(G.windowOf(s.h, s.w, geo.stride, geo.fEff));
    }
    out.taps = [];
    for (let i = 0; i < geometry.f; i += 1) {
        for (let j = 0; j < geometry.f; j += 1) out.taps.push(G.tapCells(i, j, geo));
    }
    out.covering = [];
    for (let r = 0; r < geometry.n_H_pad; r += 1) {
        for (let c = 0; c < geometry.n_W_pad; c += 1) {
            out.covering.push(G.outputsCovering(r, c, geo));
        }
    }
    const nHp = geometry.n_H_prev, nWp = geometry.n_W_prev, p = geometry.pad;
    out.complete = {};
    for (const mode of ['constant', 'reflect', 'edge']) {
        if (mode === 'reflect' && (p >= nHp || p >= nWp)) continue;
        const opts = {cLast: nC - 1, pad: p, padMode: mode};
        out.complete[mode] = [...G.completionSteps(nHp, nWp, {...geo, nC}, opts)];
    }
    out.completePerChannel = [];
    for (let c = 0; c < nC; c += 1) {
        out.completePerChannel.push([...G.completionSteps(nHp, nWp, {...geo, nC}, {cLast: c})]);
    }
    out.sources = {};
    for (const mode of ['constant', 'reflect', 'edge']) {
        out.sources[mode] = [[], []];
        for (let q = 0; q < geometry.n_H_pad; q += 1) {
            out.sources[mode][0].push(G.sourceIndex(q, nHp, p, mode));
        }
        for (let q = 0; q < geometry.n_W_pad; q += 1) {
            out.sources[mode][1].push(G.sourceIndex(q, nWp, p, mode));
        }
    }
    if (crop) {
        const data = Float32Array.from(crop.data);
        const arr = {shape: crop.shape, data, min: 0, max: 0, exact: true};
        out.crop = [...G.cropPadded(arr, p, nHp, nWp).data];
    }
    const W = {shape: [geometry.f, geometry.f, 1, nC]};
    out.shapes = G.layerShapes({conv: geometry, pool: null}, W);
    return out;
}"""


@pytest.fixture(scope="module")
def geo_page(browser, server_url):
    """One page on the server's origin for the whole table (the module is imported there)."""
    ctx = browser.new_context(base_url=server_url)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/healthz")
    yield page, errors
    ctx.close()


def _taps(step, f, dilation):
    """Padded cells of a step's window taps, from core's corners: (r, s, i, j)."""
    return [(step["vert_start"] + i * dilation, step["horiz_start"] + j * dilation, i, j)
            for i in range(f) for j in range(f)]


def _core_completion(steps, taps_of, n_H_prev, n_W_prev, pad, mode, channel=None):
    """Last step adding into each unpadded cell, via core's windows and source_index."""
    last = np.full((n_H_prev, n_W_prev), -1)
    rows_src, rows_in = source_index(np.arange(n_H_prev + 2 * pad), n_H_prev, pad, mode)
    cols_src, cols_in = source_index(np.arange(n_W_prev + 2 * pad), n_W_prev, pad, mode)
    for s in steps:
        if channel is not None and s["c"] != channel:
            continue
        for r, q, _, _ in taps_of(s):
            if rows_in[r] and cols_in[q]:
                last[rows_src[r], cols_src[q]] = max(last[rows_src[r], cols_src[q]], s["index"])
    return last.reshape(-1).tolist()


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "H{}xW{}-f{}-s{}-p{}-d{}".format(*c))
def test_conv_geometry_module_matches_core(geo_page, case):
    n_H_prev, n_W_prev, f, stride, pad, dilation = case
    g = core.conv_geometry(n_H_prev, n_W_prev, f, stride=stride, pad=pad, dilation=dilation)
    rng = np.random.default_rng(sum(case))
    A_prev = rng.standard_normal((1, n_H_prev, n_W_prev, 1))
    W = rng.standard_normal((f, f, 1, N_C))
    b = np.zeros((1, 1, 1, N_C))
    hp = {"stride": stride, "pad": pad}
    total = g.n_H * g.n_W * N_C
    steps = [s.to_dict() for s in core.conv_forward_trace(
        A_prev, W, b, hp, dilation=dilation, limit=total).steps]
    assert len(steps) == total
    # the crop: dA_prev_pad after every step, cropped in the page, is conv_backward's dA_prev
    Z, cache = core.conv_forward(A_prev, W, b, hp, dilation=dilation)
    dZ = rng.standard_normal(Z.shape)
    dA_pad, _, _ = core.conv_backward_totals(dZ, cache, total - 1)
    dA_prev, _, _ = core.conv_backward(dZ, cache)
    crop = {"shape": list(dA_pad.shape[1:]), "data": dA_pad[0].astype(np.float32).ravel().tolist()}

    page, errors = geo_page
    js = page.evaluate(GEOMETRY_JS, {"geometry": g.to_dict(), "steps": steps,
                                     "shape": [g.n_H, g.n_W, N_C], "crop": crop})

    assert js["geo"] == {"stride": stride, "fEff": g.f_eff, "dilation": dilation,
                         "nH": g.n_H, "nW": g.n_W}
    for s, pos, k, win in zip(steps, js["positions"], js["indices"], js["windows"], strict=True):
        assert pos == {"h": s["h"], "w": s["w"], "c": s["c"]}
        assert k == s["index"]
        assert win == {"r0": s["vert_start"], "r1": s["vert_end"],
                       "c0": s["horiz_start"], "c1": s["horiz_end"]}
    # which outputs tap each padded cell, and with which tap: the inverse of the windows
    want = {}
    for s in steps:
        if s["c"] == 0:
            for r, q, i, j in _taps(s, f, dilation):
                want.setdefault((r, q), []).append({"h": s["h"], "w": s["w"], "i": i, "j": j})
    got = js["covering"]
    for r in range(g.n_H_pad):
        for q in range(g.n_W_pad):
            assert got[r * g.n_W_pad + q] == want.get((r, q), []), (r, q)
    # the cells each weight W[i, j] multiplies: tap (i, j) of every window
    for n, cells in enumerate(js["taps"]):
        i, j = divmod(n, f)
        assert cells == [{"r": r, "c": q} for s in steps if s["c"] == 0
                         for (r, q, ti, tj) in _taps(s, f, dilation) if (ti, tj) == (i, j)]
    # cells no window reaches are exactly core's dropped rows and columns
    reached_rows = {r for (r, _q) in want}
    reached_cols = {q for (_r, q) in want}
    assert sorted(set(range(g.n_H_pad)) - reached_rows) == list(g.dropped_rows)
    assert sorted(set(range(g.n_W_pad)) - reached_cols) == list(g.dropped_cols)
    # when each cell of dA_prev has received its last contribution, per pad mode
    for mode, last in js["complete"].items():
        assert last == _core_completion(steps, lambda s: _taps(s, f, dilation),
                                        n_H_prev, n_W_prev, pad, mode), mode
    assert ("reflect" in js["complete"]) == (pad < min(n_H_prev, n_W_prev))
    # where each pad cell copies from (None: a constant)
    for mode, (rows, cols) in js["sources"].items():
        for n, n_pad, got_axis in ((n_H_prev, g.n_H_pad, rows), (n_W_prev, g.n_W_pad, cols)):
            src, inside = source_index(np.arange(n_pad), n, pad, mode)
            if mode == "reflect" and pad >= n:
                continue  # core refuses reflect padding that wide
            assert got_axis == [int(x) if ok else None for x, ok in zip(src, inside, strict=True)]
    np.testing.assert_array_equal(np.array(js["crop"]).reshape(dA_prev.shape[1:]),
                                  dA_prev[0].astype(np.float32))
    assert js["shapes"] == {"input": [n_H_prev, n_W_prev, 1], "padded": list(dA_pad.shape[1:]),
                            "Z": list(Z.shape[1:]), "A": list(Z.shape[1:]), "pooled": None}
    assert errors == []


@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: "H{}xW{}-f{}-s{}".format(*c))
def test_pool_geometry_module_matches_core(geo_page, case):
    n_H_prev, n_W_prev, f, stride = case
    g = core.pool_geometry(n_H_prev, n_W_prev, f, stride=stride)
    A = np.random.default_rng(sum(case)).standard_normal((1, n_H_prev, n_W_prev, N_C))
    total = g.n_H * g.n_W * N_C
    steps = [s.to_dict() for s in core.pool_forward_trace(
        A, {"stride": stride, "f": f}, limit=total).steps]

    page, errors = geo_page
    js = page.evaluate(GEOMETRY_JS, {"geometry": g.to_dict(), "steps": steps,
                                     "shape": [g.n_H, g.n_W, N_C], "crop": None})

    assert js["geo"] == {"stride": stride, "fEff": f, "dilation": 1, "nH": g.n_H, "nW": g.n_W}
    for s, pos, win in zip(steps, js["positions"], js["windows"], strict=True):
        assert pos == {"h": s["h"], "w": s["w"], "c": s["c"]}
        assert win == {"r0": s["vert_start"], "r1": s["vert_end"],
                       "c0": s["horiz_start"], "c1": s["horiz_end"]}
    for c in range(N_C):  # pool backward: each channel's map completes with its own steps
        assert js["completePerChannel"][c] == _core_completion(
            steps, lambda s: _taps(s, f, 1), n_H_prev, n_W_prev, 0, "constant", channel=c)
    assert errors == []
