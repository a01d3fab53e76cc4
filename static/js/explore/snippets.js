// "Use it yourself": the current settings as an equivalent core call in the exercise's
// style, a curl request to the JSON API, and PyTorch (F.conv2d with the layout conversion).
// The core and curl snippets end on the step the page shows (`at`: {stage, step, h, w, c},
// h the padded row on the Pad stage) and print its numbers, as the view shows them.

import { endpoints, sampleUrl } from "../kit/api.js";
import { cleanFilters } from "./state.js";

function pyList(a) {
  if (Array.isArray(a)) return `[${a.map(pyList).join(", ")}]`;
  return Number.isInteger(a) ? `${a}.0` : String(a);
}

function pyStr(s) {
  return JSON.stringify(String(s));
}

function imageLoad(st, fileName) {
  const mode = st.color === "rgb" ? "RGB" : "L";
  const open = fileName
    ? [`img = Image.open(${pyStr(fileName)})  # your upload`]
    : [
      "import io",
      "from urllib.request import urlopen",
      `sample = urlopen(${pyStr(`${window.location.origin}${sampleUrl(st.sample)}`)}).read()`,
      "img = Image.open(io.BytesIO(sample))",
    ];
  return [
    "from PIL import Image, ImageOps",
    ...open,
    `if img.format == "JPEG": img.draft(${pyStr(mode)}, (${st.size}, ${st.size}))  # decoded as the server does`,
    `img = ImageOps.exif_transpose(img).convert(${pyStr(mode)})`,
    `w, h = img.size  # the working image: longest side ${st.size}, aspect kept (as the server does)`,
    `size = (${st.size}, max(1, round(h * ${st.size} / w))) if w >= h else (max(1, round(w * ${st.size} / h)), ${st.size})`,
    "img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if img.size != size else img",
    "x = np.asarray(img, dtype=np.float64) / 255.0",
    `A_prev = x.reshape(1, x.shape[0], x.shape[1], ${st.color === "rgb" ? 3 : 1})  # (m, n_H_prev, n_W_prev, n_C_prev)`,
  ];
}

function filterLines(st) {
  const C = st.color === "rgb" ? 3 : 1;
  const lines = [`W = np.zeros((${st.f}, ${st.f}, ${C}, ${st.filters.length}))  # (f, f, n_C_prev, n_C)`,
    `b = np.zeros((1, 1, 1, ${st.filters.length}))`];
  st.filters.forEach((fl, c) => {
    if (fl.preset) {
      lines.push(`W[:, :, :, ${c}] = preset_kernel(${pyStr(fl.preset)}, ${st.f})[:, :, None] / ${C}  # the preset, divided by C`);
    } else {
      const per = Array.isArray(fl.weights[0][0]);
      lines.push(`W[:, :, :, ${c}] = np.array(${pyList(fl.weights)})${per ? "" : "[:, :, None]"}`);
    }
    if (fl.bias) lines.push(`b[0, 0, 0, ${c}] = ${fl.bias}`);
  });
  return lines;
}

/** A script's opening: numpy and the `imports`, the image as A_prev, W and b, each part
 * followed by a blank line. */
function inputLines(st, fileName, ...imports) {
  return ["import numpy as np", ...imports, ...imageLoad(st, fileName), "", ...filterLines(st), ""];
}

function upstreamLine(st, outName) {
  const u = st.upstream;
  if (u.kind === "ones") return `dOut = np.ones_like(${outName})  # L = sum(out)`;
  if (u.kind === "output") return `dOut = ${outName}.copy()  # L = sum(out**2) / 2`;
  return `dOut = np.random.default_rng(${u.seed}).standard_normal(${outName}.shape)`;
}

function padLine(st) {
  const kw = st.pad_mode !== "constant" ? `pad_mode=${pyStr(st.pad_mode)}` : `pad_value=${pyValue(st.pad_value)}`;
  return `A_prev_pad = zero_pad(A_prev, ${st.pad}, ${kw})  # (m, n_H_prev + 2*pad, n_W_prev + 2*pad, n_C_prev)`;
}

function pyValue(v) {
  return Array.isArray(v) ? `(${v.join(", ")})` : String(v);
}

/** The conv window of output (h, w) in A_prev_pad, as the exercise slices it. */
function convSlice(st) {
  const fEff = st.dilation * (st.f - 1) + 1;
  const step = st.dilation > 1 ? `:${st.dilation}` : "";
  return [
    `vert_start, horiz_start = h * ${st.stride}, w * ${st.stride}`,
    `a_slice_prev = A_prev_pad[0, vert_start:vert_start + ${fEff}${step}, horiz_start:horiz_start + ${fEff}${step}, :]`,
  ];
}

/** Python lines printing what the view of `at.stage` shows at its step. */
function stepLines(st, at) {
  if (!at) return [];
  const out = ["", `# the step the page shows: ${at.stage}, step ${at.step + 1}`];
  const hwc = `h, w, c = ${at.h}, ${at.w}, ${at.c}`;
  if (at.stage === "pad") {
    const shown = Math.min(at.nWPad, st.pad + 4);
    out.push(padLine(st), `r = ${at.h}  # a row of A_prev_pad`,
      `print("A_prev_pad[0, r, 0:${shown}, :] =", A_prev_pad[0, r, 0:${shown}, :].tolist())`);
  } else if (at.stage === "conv_forward") {
    out.push(hwc, padLine(st), ...convSlice(st),
      'print("a_slice_prev =", a_slice_prev.tolist())',
      'print("W[:, :, :, c] =", W[:, :, :, c].tolist())',
      'print("products =", (a_slice_prev * W[:, :, :, c]).tolist())',
      'print("sum of products =", float(np.sum(a_slice_prev * W[:, :, :, c])))',
      'print("b =", float(b[0, 0, 0, c]))',
      'print(f"Z[0, {h}, {w}, {c}] =", float(Z[0, h, w, c]))');
  } else if (at.stage === "relu") {
    out.push(hwc, 'print(f"Z[0, {h}, {w}, {c}] =", float(Z[0, h, w, c]))',
      'print(f"A[0, {h}, {w}, {c}] = max(0, Z) =", float(A[0, h, w, c]))');
  } else if (at.stage === "pool_forward" || at.stage === "pool_backward") {
    const p = st.pool;
    out.push(hwc, `vert_start, horiz_start = h * ${p.stride}, w * ${p.stride}`,
      `a_prev_slice = A[0, vert_start:vert_start + ${p.f}, horiz_start:horiz_start + ${p.f}, c]`,
      'print("a_prev_slice =", a_prev_slice.tolist())');
    if (at.stage === "pool_forward") out.push('print(f"A_pool[0, {h}, {w}, {c}] =", float(A_pool[0, h, w, c]))');
    else out.push('print(f"dA[0, {h}, {w}, {c}] (the gradient at A_pool) =", float(dOut[0, h, w, c]))');
  } else if (at.stage === "conv_backward") {
    out.push(hwc, padLine(st), ...convSlice(st),
      'print(f"dZ[0, {h}, {w}, {c}] =", float(dZ[0, h, w, c]))',
      'print("W[:, :, :, c] * dZ (added to dA_prev_pad) =", (W[:, :, :, c] * dZ[0, h, w, c]).tolist())',
      'print("a_slice_prev * dZ (added to dW) =", (a_slice_prev * dZ[0, h, w, c]).tolist())');
  } else if (at.stage === "backward_transpose") {
    const fEff = st.dilation * (st.f - 1) + 1;
    const step = st.dilation > 1 ? `:${st.dilation}` : "";
    const [opH, opW] = at.outputPadding;
    out.push(
      "from core.transpose import transpose_as_convolution",
      `dZ_up, W_flip, _ = transpose_as_convolution(dZ, W, hparameters, output_padding=(${opH}, ${opW})${st.dilation > 1 ? `, dilation=${st.dilation}` : ""})`,
      hwc,
      `window = dZ_up[0, h:h + ${fEff}${step}, w:w + ${fEff}${step}, :]  # stride 1 over dZ_up`,
      'print("dZ_up window =", window.tolist())',
      'print("W_flip[:, :, :, c] =", W_flip[:, :, :, c].tolist())',
      'print("products =", (window * W_flip[:, :, :, c]).tolist())',
      'print("sum of products =", float(np.sum(window * W_flip[:, :, :, c])))',
      'print(f"dA_prev[0, {h}, {w}, {c}] from conv_backward =", float(dA_prev[0, h, w, c]))');
  }
  return out;
}

export function pythonSnippet(st, fileName, at = null) {
  const kw = [];
  if (st.pad_mode !== "constant") kw.push(`pad_mode=${pyStr(st.pad_mode)}`);
  else if (st.pad_value) kw.push(`pad_value=${st.pad_value}`);
  if (st.dilation !== 1) kw.push(`dilation=${st.dilation}`);
  const kws = kw.length ? `, ${kw.join(", ")}` : "";
  const lines = [
    ...inputLines(st, fileName, "from core import conv_forward, conv_backward, pool_forward, pool_backward, preset_kernel, zero_pad"),
    `hparameters = {"stride": ${st.stride}, "pad": ${st.pad}}`,
    `Z, cache_conv = conv_forward(A_prev, W, b, hparameters${kws})`,
    st.relu ? "A = np.maximum(Z, 0)  # ReLU" : "A = Z  # no activation",
  ];
  if (st.pool) {
    lines.push(
      `hparameters_pool = {"stride": ${st.pool.stride}, "f": ${st.pool.f}}`,
      `A_pool, cache_pool = pool_forward(A, hparameters_pool, mode=${pyStr(st.pool.mode)})`,
      "",
      upstreamLine(st, "A_pool"),
      `dA = pool_backward(dOut, cache_pool, mode=${pyStr(st.pool.mode)}${st.pool.mode === "max" ? `, tie_rule=${pyStr(st.pool.tie_rule)}` : ""})`,
    );
  } else {
    lines.push("", upstreamLine(st, "A"), "dA = dOut");
  }
  lines.push(
    st.relu ? "dZ = dA * (Z > 0)  # ReLU's backward" : "dZ = dA",
    "dA_prev, dW, db = conv_backward(dZ, cache_conv)",
    ...stepLines(st, at),
  );
  return lines.join("\n");
}

function cleanSettings(st) {
  return { ...JSON.parse(JSON.stringify(st)), filters: cleanFilters(st.filters) };
}

const STEP_STAGES = ["conv_forward", "pool_forward", "pool_backward", "conv_backward", "backward_transpose"];

/** A shell word in single quotes. */
function shq(text) {
  return `'${String(text).replace(/'/g, "'\\''")}'`;
}

/**
 * One command, one answer, readable, ending in a newline: the image's id from /api/image
 * (asking for its smallest array, b), then the one step record the page shows from
 * /api/steps, pretty-printed by python3 -m json.tool. For Pad and ReLU (no step records)
 * the row or cell the page shows, read out of the arrays by a few lines of Python.
 */
export function curlSnippet(st, fileName, at = null) {
  const ep = endpoints();
  const s = cleanSettings(st);
  if (fileName) delete s.sample;
  const fileArg = fileName ? ` -F ${shq(`file=@${fileName}`)}` : "";
  const post = (arrays) => `curl -s '${ep.image}?arrays=${arrays}' -F ${shq(`settings=${JSON.stringify(s)}`)}${fileArg}`;
  const stage = at ? at.stage : "conv_forward";
  const lines = [];
  if (!at || STEP_STAGES.includes(stage)) {
    const pos = at ? [at.h, at.w, at.c] : [0, 0, 0];
    const body = JSON.stringify({ id: "IMAGE_ID", settings: s, stage, position: pos, limit: 1 });
    const [before, after] = body.split("IMAGE_ID");
    lines.push(
      `# the step the page shows (${stage}, output [h, w, c] = [${pos.join(", ")}]): the image's id, then that step's record`,
      `id=$(${post("b")} | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')`,
      `curl -s ${ep.steps} -H 'Content-Type: application/json' \\`,
      `  -d ${shq(before)}"$id"${shq(after)} | python3 -m json.tool`,
    );
  } else if (stage === "pad") {
    const shown = Math.min(at.nWPad, st.pad + 4);
    lines.push(
      `# the row the page shows: A_prev_pad[${at.h}, 0:${shown}, :] (arrays are base64 float32)`,
      `${post("padded")} | python3 -c '`,
      "import base64, json, struct, sys",
      'a = json.load(sys.stdin)["arrays"]["padded"]',
      'H, W, C = a["shape"]',
      'v = struct.unpack("<%df" % (H * W * C), base64.b64decode(a["data"]))',
      `print(json.dumps([v[(${at.h} * W + s) * C:(${at.h} * W + s + 1) * C] for s in range(${shown})], indent=1))'`,
    );
  } else {
    lines.push(
      `# the cell the page shows: Z and A at [h, w, c] = [${at.h}, ${at.w}, ${at.c}] (arrays are base64 float32)`,
      `${post("Z,A")} | python3 -c '`,
      "import base64, json, struct, sys",
      'd = json.load(sys.stdin)["arrays"]',
      "def at(a, h, w, c):",
      '    H, W, C = a["shape"]',
      '    return struct.unpack_from("<f", base64.b64decode(a["data"]), 4 * ((h * W + w) * C + c))[0]',
      `print(json.dumps({"z": at(d["Z"], ${at.h}, ${at.w}, ${at.c}), "a": at(d["A"], ${at.h}, ${at.w}, ${at.c})}, indent=1))'`,
    );
  }
  lines.push("", `# every route and field: ${ep.docs}`);
  return lines.join("\n");
}

export function torchSnippet(st, fileName) {
  const padMode = { constant: "constant", reflect: "reflect", edge: "replicate" }[st.pad_mode];
  const lines = [
    ...inputLines(st, fileName, "import torch", "import torch.nn.functional as F", "from core import preset_kernel"),
    "# channels-last (m, H, W, C) -> PyTorch's (m, C, H, W); W (f, f, C, n_C) -> (n_C, C, f, f)",
    "x = torch.from_numpy(A_prev).permute(0, 3, 1, 2).requires_grad_()",
    "w = torch.from_numpy(W).permute(3, 2, 0, 1).contiguous().requires_grad_()",
    "bias = torch.from_numpy(b.reshape(-1)).requires_grad_()",
    st.pad > 0
      ? `xp = F.pad(x, (${st.pad}, ${st.pad}, ${st.pad}, ${st.pad}), mode=${pyStr(padMode)}${st.pad_mode === "constant" ? `, value=${st.pad_value}` : ""})`
      : "xp = x",
    `Z = F.conv2d(xp, w, bias, stride=${st.stride}, dilation=${st.dilation})  # cross-correlation, like the exercise`,
    st.relu ? "A = F.relu(Z)" : "A = Z",
  ];
  let out = "A";
  if (st.pool) {
    const fn = st.pool.mode === "max" ? "F.max_pool2d" : "F.avg_pool2d";
    lines.push(`P = ${fn}(A, kernel_size=${st.pool.f}, stride=${st.pool.stride})`);
    if (st.pool.mode === "max" && st.pool.tie_rule !== "first") {
      lines.push(`# note: PyTorch routes a tied maximum's gradient to one cell; convstep's "${st.pool.tie_rule}" rule differs on ties`);
    }
    out = "P";
  }
  const u = st.upstream;
  if (u.kind === "ones") lines.push(`${out}.sum().backward()  # dOut = ones`);
  else if (u.kind === "output") lines.push(`(${out} ** 2 / 2).sum().backward()  # dOut = output`);
  else {
    lines.push(
      `dOut = np.random.default_rng(${u.seed}).standard_normal(tuple(${out}.permute(0, 2, 3, 1).shape))`,
      `${out}.backward(torch.from_numpy(dOut).permute(0, 3, 1, 2))`,
    );
  }
  lines.push(
    "",
    "# back to the exercise's layout",
    "Z_nhwc = Z.detach().permute(0, 2, 3, 1).numpy()    # (m, n_H, n_W, n_C)",
    "dA_prev = x.grad.permute(0, 2, 3, 1).numpy()        # (m, n_H_prev, n_W_prev, n_C_prev)",
    "dW = w.grad.permute(2, 3, 1, 0).numpy()              # (f, f, n_C_prev, n_C)",
    "db = bias.grad.numpy().reshape(1, 1, 1, -1)          # (1, 1, 1, n_C)",
  );
  return lines.join("\n");
}

