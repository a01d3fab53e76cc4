'''The exercise's eight functions, written once, with an id on every line.

"Convolutional Model: Step by Step" as a learner writes it (channels-last, the exercise's
names and loops, plain NumPy, no validation), in the order the exercise builds them.
Everything that shows or runs the exercise's code is derived from SOURCE below, never
retyped: the page's listing (core/learn/listing.py), the runnable exercise and its step
generators (core/learn/exercise.py), the loop twins (core/loops.py), the mistake variants
and the right and buggy lines they show (core/learn/variants.py).

The annotation, at the end of a line: `#@ id`, the line's id within its function (the page
highlights lines by id, and mistakes and options name the lines they replace). After the id,
`| step NAMES` on a `for` line says "after each pass of this loop's body the step
generators yield ("step", (NAMES,))"; `| crop NAMES` on another line says "right after this
line yield ("crop", (NAMES,))" (core/trace.py's step order; see exercise.py). The listing
drops the annotation and the spaces before it.

OPTIONS: the lines the page's extras change ("More": dilation, padding mode, max-pool tie
rule), as edits of named lines (see listing.Edit); the loop twins run the same edits.
'''

# ruff: noqa: E501  (the listing's lines are as long as the exercise writes them)

from __future__ import annotations

SOURCE = '''
def zero_pad(X, pad):                                                                 #@ def
    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)),                       #@ pad
                   mode='constant', constant_values=(0, 0))                           #@ pad2
    return X_pad                                                                      #@ ret

def conv_single_step(a_slice_prev, W, b):                                             #@ def
    s = np.multiply(a_slice_prev, W)                                                  #@ s
    Z = np.sum(s)                                                                     #@ sum
    # NumPy 2: float(b) raises TypeError (b is (1, 1, 1)); b.item() works             #@ biasnote
    Z = Z + b.item()                                                                  #@ bias
    return Z                                                                          #@ ret

def conv_forward(A_prev, W, b, hparameters):                                          #@ def
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape                                  #@ shape
    (f, f, n_C_prev, n_C) = W.shape                                                   #@ wshape
    stride = hparameters['stride']                                                    #@ stride
    pad = hparameters['pad']                                                          #@ padp
    n_H = int((n_H_prev - f + 2 * pad) / stride) + 1                                  #@ nH
    n_W = int((n_W_prev - f + 2 * pad) / stride) + 1                                  #@ nW
    Z = np.zeros((m, n_H, n_W, n_C))                                                  #@ zeros
    A_prev_pad = zero_pad(A_prev, pad)                                                #@ padcall
    for i in range(m):                                                                #@ fori
        a_prev_pad = A_prev_pad[i]                                                    #@ apad
        for h in range(n_H):                                                          #@ forh
            for w in range(n_W):                                                      #@ forw
                for c in range(n_C):                                                  #@ forc | step Z
                    vert_start = h * stride                                           #@ vs
                    vert_end = vert_start + f                                         #@ ve
                    horiz_start = w * stride                                          #@ hs
                    horiz_end = horiz_start + f                                       #@ he
                    a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]  #@ slice
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])  #@ z
    cache = (A_prev, W, b, hparameters)                                               #@ cache
    return Z, cache                                                                   #@ ret

def conv_backward(dZ, cache):                                                         #@ def
    (A_prev, W, b, hparameters) = cache                                               #@ cache
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape                                  #@ shape
    (f, f, n_C_prev, n_C) = W.shape                                                   #@ wshape
    stride = hparameters['stride']                                                    #@ stride
    pad = hparameters['pad']                                                          #@ padp
    (m, n_H, n_W, n_C) = dZ.shape                                                     #@ dzshape
    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C_prev))                             #@ zeros
    dW = np.zeros((f, f, n_C_prev, n_C))                                              #@ dwzeros
    db = np.zeros((1, 1, 1, n_C))                                                     #@ dbzeros
    A_prev_pad = zero_pad(A_prev, pad)                                                #@ padcall
    dA_prev_pad = zero_pad(dA_prev, pad)                                              #@ dpadcall
    for i in range(m):                                                                #@ fori
        a_prev_pad = A_prev_pad[i]                                                    #@ apad
        da_prev_pad = dA_prev_pad[i]                                                  #@ dapad
        for h in range(n_H):                                                          #@ forh
            for w in range(n_W):                                                      #@ forw
                for c in range(n_C):                                                  #@ forc | step dA_prev_pad dW db
                    vert_start = h * stride                                           #@ vs
                    vert_end = vert_start + f                                         #@ ve
                    horiz_start = w * stride                                          #@ hs
                    horiz_end = horiz_start + f                                       #@ he
                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]  #@ slice
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]  #@ da
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]                        #@ dw
                    db[:, :, :, c] += dZ[i, h, w, c]                                  #@ db
        dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]  #@ crop | crop dA_prev
    return dA_prev, dW, db                                                            #@ ret

def pool_forward(A_prev, hparameters, mode='max'):                                    #@ def
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape                                  #@ shape
    f = hparameters['f']                                                              #@ f
    stride = hparameters['stride']                                                    #@ stride
    n_H = int(1 + (n_H_prev - f) / stride)                                            #@ nH
    n_W = int(1 + (n_W_prev - f) / stride)                                            #@ nW
    n_C = n_C_prev                                                                    #@ nC
    A = np.zeros((m, n_H, n_W, n_C))                                                  #@ zeros
    for i in range(m):                                                                #@ fori
        for h in range(n_H):                                                          #@ forh
            for w in range(n_W):                                                      #@ forw
                for c in range(n_C):                                                  #@ forc | step A
                    vert_start = h * stride                                           #@ vs
                    vert_end = vert_start + f                                         #@ ve
                    horiz_start = w * stride                                          #@ hs
                    horiz_end = horiz_start + f                                       #@ he
                    a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]  #@ slice
                    if mode == 'max':                                                 #@ ifmax
                        A[i, h, w, c] = np.max(a_prev_slice)                          #@ max
                    elif mode == 'average':                                           #@ ifavg
                        A[i, h, w, c] = np.mean(a_prev_slice)                         #@ mean
    cache = (A_prev, hparameters)                                                     #@ cache
    return A, cache                                                                   #@ ret

def create_mask_from_window(x):                                                       #@ def
    mask = x == np.max(x)                                                             #@ mask
    return mask                                                                       #@ ret

def distribute_value(dz, shape):                                                      #@ def
    (n_H, n_W) = shape                                                                #@ shape
    average = dz / (n_H * n_W)                                                        #@ avg
    a = np.ones(shape) * average                                                      #@ a
    return a                                                                          #@ ret

def pool_backward(dA, cache, mode='max'):                                             #@ def
    (A_prev, hparameters) = cache                                                     #@ cache
    stride = hparameters['stride']                                                    #@ stride
    f = hparameters['f']                                                              #@ f
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape                                    #@ shape
    m, n_H, n_W, n_C = dA.shape                                                       #@ dashape
    dA_prev = np.zeros(A_prev.shape)                                                  #@ zeros
    for i in range(m):                                                                #@ fori
        a_prev = A_prev[i]                                                            #@ aprev
        for h in range(n_H):                                                          #@ forh
            for w in range(n_W):                                                      #@ forw
                for c in range(n_C):                                                  #@ forc | step dA_prev
                    vert_start = h * stride                                           #@ vs
                    vert_end = vert_start + f                                         #@ ve
                    horiz_start = w * stride                                          #@ hs
                    horiz_end = horiz_start + f                                       #@ he
                    if mode == 'max':                                                 #@ ifmax
                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]  #@ slice
                        mask = create_mask_from_window(a_prev_slice)                  #@ mask
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += np.multiply(mask, dA[i, h, w, c])  #@ addmax
                    elif mode == 'average':                                           #@ ifavg
                        da = dA[i, h, w, c]                                           #@ da
                        shape = (f, f)                                                #@ fshape
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += distribute_value(da, shape)  #@ addavg
    return dA_prev                                                                    #@ ret
'''


# The extras under "More": option -> value -> edits (function, line id, old text or None for
# the whole line, new text; see listing.Edit). Dilation d puts the taps d apart (the window is
# d * (f - 1) + 1 wide; `dilation` is a name the runnable code is given); a padding mode other
# than zeros pads with np.pad's mode; tie rules other than the exercise's x == np.max(x) mark
# the first maximum only ("first") or share the gradient among tied maxima ("split").
_WINDOW = "dilation * (f - 1) + 1"
DILATION_EDITS = (
    *((fn, "ve", "vert_start + f", f"vert_start + {_WINDOW}") for fn in ("conv_forward",
                                                                           "conv_backward")),
    *((fn, "he", "horiz_start + f", f"horiz_start + {_WINDOW}") for fn in ("conv_forward",
                                                                             "conv_backward")),
    ("conv_forward", "nH", "n_H_prev - f + 2 * pad", "n_H_prev + 2 * pad - dilation * (f - 1) - 1"),
    ("conv_forward", "nW", "n_W_prev - f + 2 * pad", "n_W_prev + 2 * pad - dilation * (f - 1) - 1"),
    *((fn, "slice", "[vert_start:vert_end, horiz_start:horiz_end, :]",
       "[vert_start:vert_end:dilation, horiz_start:horiz_end:dilation, :]")
      for fn in ("conv_forward", "conv_backward")),
    ("conv_backward", "da", "[vert_start:vert_end, horiz_start:horiz_end, :]",
     "[vert_start:vert_end:dilation, horiz_start:horiz_end:dilation, :]"),
)


def pad_mode_edits(pad_mode: str, pad_value=(0.0, 0.0)) -> tuple:
    """zero_pad's np.pad call for a padding mode ("constant" with (before, after) values)."""
    if pad_mode == "constant":
        before, after = (float(v) for v in pad_value)
        if before == after == 0:
            return ()
        return (("zero_pad", "pad2", "constant_values=(0, 0)",
                 f"constant_values=({before!r}, {after!r})"),)
    return (("zero_pad", "pad", None,
             f"X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode='{pad_mode}')"),
            ("zero_pad", "pad2", None, None))


TIE_RULE_EDITS = {
    "all": (),
    "first": (("pool_backward", "mask", None,
               "mask = np.zeros_like(a_prev_slice)\n"
               "mask.flat[np.argmax(a_prev_slice)] = 1   # the first maximum only"),),
    "split": (("pool_backward", "mask", None,
               "mask = create_mask_from_window(a_prev_slice)\n"
               "mask = mask / np.sum(mask)   # tied maxima share equally"),),
}


def option_edits(*, dilation: int = 1, pad_mode: str = "constant", pad_value=(0.0, 0.0),
                 tie_rule: str = "all") -> tuple:
    """The edits of SOURCE for these extras (none for the exercise's own choices)."""
    return ((DILATION_EDITS if dilation != 1 else ()) + pad_mode_edits(pad_mode, pad_value)
            + TIE_RULE_EDITS[tie_rule])
