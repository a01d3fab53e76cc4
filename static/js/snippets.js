// "Use it yourself": the current settings as an equivalent core call in the exercise's
// style, a curl request to the JSON API, and PyTorch (F.conv2d with the layout conversion).

import { endpoints, sampleUrl } from "./api.js";
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

function upstreamLine(st, outName) {
  const u = st.upstream;
  if (u.kind === "ones") return `dOut = np.ones_like(${outName})  # L = sum(out)`;
  if (u.kind === "output") return `dOut = ${outName}.copy()  # L = sum(out**2) / 2`;
  return `dOut = np.random.default_rng(${u.seed}).standard_normal(${outName}.shape)`;
}

export function pythonSnippet(st, fileName) {
  const kw = [];
  if (st.pad_mode !== "constant") kw.push(`pad_mode=${pyStr(st.pad_mode)}`);
  else if (st.pad_value) kw.push(`pad_value=${st.pad_value}`);
  if (st.dilation !== 1) kw.push(`dilation=${st.dilation}`);
  const kws = kw.length ? `, ${kw.join(", ")}` : "";
  const lines = [
    "import numpy as np",
    "from core import conv_forward, conv_backward, pool_forward, pool_backward, preset_kernel",
    ...imageLoad(st, fileName),
    "",
    ...filterLines(st),
    "",
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
  );
  return lines.join("\n");
}

function cleanSettings(st) {
  return { ...JSON.parse(JSON.stringify(st)), filters: cleanFilters(st.filters) };
}

export function curlSnippet(st, fileName, id) {
  const ep = endpoints();
  const s = cleanSettings(st);
  if (fileName) delete s.sample;
  const json = JSON.stringify(s).replace(/'/g, "'\\''");
  const fileArg = fileName ? ` \\\n  -F 'file=@${fileName.replace(/'/g, "")}'` : "";
  const steps = JSON.stringify({ id: id || "<id from the answer>", settings: s, stage: "conv_forward", offset: 0, limit: 64 }).replace(/'/g, "'\\''");
  return [
    "# the whole layer: arrays (base64 float32), geometry, first step pages",
    `curl -s ${ep.image} \\`,
    `  -F 'settings=${json}'${fileArg}`,
    "",
    "# more steps of a stage, exact float64 numbers",
    `curl -s ${ep.steps} \\`,
    "  -H 'Content-Type: application/json' \\",
    `  -d '${steps}'`,
    "",
    `# every route and field: ${ep.docs}`,
  ].join("\n");
}

export function torchSnippet(st, fileName) {
  const padMode = { constant: "constant", reflect: "reflect", edge: "replicate" }[st.pad_mode];
  const lines = [
    "import numpy as np",
    "import torch",
    "import torch.nn.functional as F",
    "from core import preset_kernel",
    ...imageLoad(st, fileName),
    "",
    ...filterLines(st),
    "",
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

