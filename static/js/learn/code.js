// The exercise's code ("Convolutional Model: Step by Step"), function by function, as a
// learner writes it (channels-last, the exercise's names). Each line may carry an id: the
// lesson highlights the lines a step runs and writes the live values next to them.
// Where the exercise's own text has a known trap, the line shown is the safe one and the
// lesson's note says why (the crop [pad:-pad] is empty at pad 0).

const L = (id, text) => ({ id, text });

/** The loops over output positions and the window's corners: the same lines in the four
 * loop functions (conv and pool, forward and backward). */
const WINDOW_LOOP = [
  L("forh", "        for h in range(n_H):"),
  L("forw", "            for w in range(n_W):"),
  L("forc", "                for c in range(n_C):"),
  L("vs", "                    vert_start = h * stride"),
  L("ve", "                    vert_end = vert_start + f"),
  L("hs", "                    horiz_start = w * stride"),
  L("he", "                    horiz_end = horiz_start + f"),
];

export const CODE = {
  zero_pad: [
    L("def", "def zero_pad(X, pad):"),
    L("pad", "    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)),"),
    L("pad2", "                   mode='constant', constant_values=(0, 0))"),
    L("ret", "    return X_pad"),
  ],
  conv_single_step: [
    L("def", "def conv_single_step(a_slice_prev, W, b):"),
    L("s", "    s = np.multiply(a_slice_prev, W)"),
    L("sum", "    Z = np.sum(s)"),
    L("bias", "    Z = Z + float(b)"),
    L("ret", "    return Z"),
  ],
  conv_forward: [
    L("def", "def conv_forward(A_prev, W, b, hparameters):"),
    L("shape", "    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape"),
    L("wshape", "    (f, f, n_C_prev, n_C) = W.shape"),
    L("stride", "    stride = hparameters['stride']"),
    L("padp", "    pad = hparameters['pad']"),
    L("nH", "    n_H = int((n_H_prev - f + 2 * pad) / stride) + 1"),
    L("nW", "    n_W = int((n_W_prev - f + 2 * pad) / stride) + 1"),
    L("zeros", "    Z = np.zeros((m, n_H, n_W, n_C))"),
    L("padcall", "    A_prev_pad = zero_pad(A_prev, pad)"),
    L("fori", "    for i in range(m):"),
    L("apad", "        a_prev_pad = A_prev_pad[i]"),
    ...WINDOW_LOOP,
    L("slice", "                    a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]"),
    L("z", "                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])"),
    L("cache", "    cache = (A_prev, W, b, hparameters)"),
    L("ret", "    return Z, cache"),
  ],
  conv_backward: [
    L("def", "def conv_backward(dZ, cache):"),
    L("cache", "    (A_prev, W, b, hparameters) = cache"),
    L("shape", "    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape"),
    L("wshape", "    (f, f, n_C_prev, n_C) = W.shape"),
    L("stride", "    stride = hparameters['stride']"),
    L("padp", "    pad = hparameters['pad']"),
    L("dzshape", "    (m, n_H, n_W, n_C) = dZ.shape"),
    L("zeros", "    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C_prev))"),
    L("dwzeros", "    dW = np.zeros((f, f, n_C_prev, n_C))"),
    L("dbzeros", "    db = np.zeros((1, 1, 1, n_C))"),
    L("padcall", "    A_prev_pad = zero_pad(A_prev, pad)"),
    L("dpadcall", "    dA_prev_pad = zero_pad(dA_prev, pad)"),
    L("fori", "    for i in range(m):"),
    L("apad", "        a_prev_pad = A_prev_pad[i]"),
    L("dapad", "        da_prev_pad = dA_prev_pad[i]"),
    ...WINDOW_LOOP,
    L("slice", "                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]"),
    L("da", "                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]"),
    L("dw", "                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]"),
    L("db", "                    db[:, :, :, c] += dZ[i, h, w, c]"),
    L("crop", "        dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]"),
    L("ret", "    return dA_prev, dW, db"),
  ],
  pool_forward: [
    L("def", "def pool_forward(A_prev, hparameters, mode='max'):"),
    L("shape", "    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape"),
    L("f", "    f = hparameters['f']"),
    L("stride", "    stride = hparameters['stride']"),
    L("nH", "    n_H = int(1 + (n_H_prev - f) / stride)"),
    L("nW", "    n_W = int(1 + (n_W_prev - f) / stride)"),
    L("nC", "    n_C = n_C_prev"),
    L("zeros", "    A = np.zeros((m, n_H, n_W, n_C))"),
    L("fori", "    for i in range(m):"),
    ...WINDOW_LOOP,
    L("slice", "                    a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]"),
    L("ifmax", "                    if mode == 'max':"),
    L("max", "                        A[i, h, w, c] = np.max(a_prev_slice)"),
    L("ifavg", "                    elif mode == 'average':"),
    L("mean", "                        A[i, h, w, c] = np.mean(a_prev_slice)"),
    L("cache", "    cache = (A_prev, hparameters)"),
    L("ret", "    return A, cache"),
  ],
  create_mask_from_window: [
    L("def", "def create_mask_from_window(x):"),
    L("mask", "    mask = x == np.max(x)"),
    L("ret", "    return mask"),
  ],
  distribute_value: [
    L("def", "def distribute_value(dz, shape):"),
    L("shape", "    (n_H, n_W) = shape"),
    L("avg", "    average = dz / (n_H * n_W)"),
    L("a", "    a = np.ones(shape) * average"),
    L("ret", "    return a"),
  ],
  pool_backward: [
    L("def", "def pool_backward(dA, cache, mode='max'):"),
    L("cache", "    (A_prev, hparameters) = cache"),
    L("stride", "    stride = hparameters['stride']"),
    L("f", "    f = hparameters['f']"),
    L("shape", "    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape"),
    L("dashape", "    m, n_H, n_W, n_C = dA.shape"),
    L("zeros", "    dA_prev = np.zeros(A_prev.shape)"),
    L("fori", "    for i in range(m):"),
    L("aprev", "        a_prev = A_prev[i]"),
    ...WINDOW_LOOP,
    L("ifmax", "                    if mode == 'max':"),
    L("slice", "                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]"),
    L("mask", "                        mask = create_mask_from_window(a_prev_slice)"),
    L("addmax", "                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += np.multiply(mask, dA[i, h, w, c])"),
    L("ifavg", "                    elif mode == 'average':"),
    L("da", "                        da = dA[i, h, w, c]"),
    L("fshape", "                        shape = (f, f)"),
    L("addavg", "                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += distribute_value(da, shape)"),
    L("ret", "    return dA_prev"),
  ],
};

/** With tie rule "first" the code computed is an argmax, not create_mask_from_window. */
export const FIRST_MASK_LINES = [
  L("mask", "                        mask = np.zeros_like(a_prev_slice)"),
  L("mask2", "                        mask.flat[np.argmax(a_prev_slice)] = 1   # the first maximum only"),
];
export const SPLIT_MASK_LINES = [
  L("mask", "                        mask = create_mask_from_window(a_prev_slice)"),
  L("mask2", "                        mask = mask / np.sum(mask)   # tied maxima share equally"),
];

/** Lines with dilation d (an extension: taps d apart, the window d * (f - 1) + 1 wide). */
export const DILATED = {
  ve: "                    vert_end = vert_start + dilation * (f - 1) + 1",
  he: "                    horiz_end = horiz_start + dilation * (f - 1) + 1",
  nH: "    n_H = int((n_H_prev + 2 * pad - dilation * (f - 1) - 1) / stride) + 1",
  nW: "    n_W = int((n_W_prev + 2 * pad - dilation * (f - 1) - 1) / stride) + 1",
  slice: "                    a_slice_prev = a_prev_pad[vert_start:vert_end:dilation, horiz_start:horiz_end:dilation, :]",
  bslice: "                    a_slice = a_prev_pad[vert_start:vert_end:dilation, horiz_start:horiz_end:dilation, :]",
  da: "                    da_prev_pad[vert_start:vert_end:dilation, horiz_start:horiz_end:dilation, :] += W[:, :, :, c] * dZ[i, h, w, c]",
};

export const PAD_MODE_LINE = {
  reflect: "    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode='reflect')",
  edge: "    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode='edge')",
};
