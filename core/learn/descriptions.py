"""What each classic mistake is called and what goes wrong, in words a learner reads.

Kept apart from the code edits (core/learn/variants.py) because these are prose for people
(the page's mistake mode, the checker's report, /docs), while the edits are code; a mistake
needs both, and the tests check that every mistake and flavour has its text.

TITLES: mistake id -> title. WHAT: mistake id -> what goes wrong (the mistake as a whole).
FLAVOUR_WHAT: flavour key -> what goes wrong in that flavour, where it says more than the
mistake's text.
"""

from __future__ import annotations

TITLES = {
    "stride_missing": "Window corners without the stride",
    "bias_per_element": "Bias added to every product (the seed blog's own conv_single_step)",
    "height_width_swapped": "Height and width swapped",
    "pad_all_axes": "Padding the batch and channel axes",
    "unpadded_slice": "Slicing A_prev instead of A_prev_pad",
    "assign_not_accumulate": "= instead of +=",
    "distribute_without_dz": "Average gradient without dz or with the wrong count",
    "crop_minus_pad": "The [pad:-pad] crop",
    "mask_not_max": "A mask that is not x == max(x)",
    "dW_without_slice": "dW without the input slice",
}

WHAT = {
    "stride_missing": (
        "The window moves one cell per output instead of `stride` cells, so with stride 2 "
        "every output after the first reads the wrong window (no difference at stride 1)."),
    "bias_per_element": (
        "b is added to each of the f*f*n_C_prev products before the sum, so the output "
        "carries f*f*n_C_prev*b instead of b (no difference when b = 0)."),
    "height_width_swapped": (
        "Rows are found from the column index and columns from the row index: output (h, w) "
        "reads the window of (w, h), and on a non-square input windows run past the edge "
        "(NumPy cuts them short)."),
    "pad_all_axes": (
        "np.pad pads the batch and channel axes too: X_pad is (m + 2*pad, n_H + 2*pad, "
        "n_W + 2*pad, n_C + 2*pad) and image i of the padded batch is image i - pad (the "
        "first is all zeros); no difference at pad 0."),
    "unpadded_slice": (
        "Windows are cut from the unpadded A_prev: each is shifted by pad cells, and those "
        "past the edge come back short (NumPy broadcasts them or raises); no difference at "
        "pad 0."),
    "assign_not_accumulate": (
        "A gradient is written with = instead of added with +=, so each step overwrites what "
        "earlier steps put there: only the last window (or filter) that touches a cell "
        "counts."),
    "distribute_without_dz": (
        "Average pooling's gradient is not dz shared over the n_H*n_W cells of the window: "
        "dz is left out, or divided by another count."),
    "crop_minus_pad": (
        "The crop [pad:-pad] is right for pad > 0, but at pad 0 it is [0:-0], which is "
        "empty, so the assignment into dA_prev raises."),
    "mask_not_max": (
        "The max-pool mask marks the wrong cell, or every cell, instead of the maximum "
        "(every tied maximum, as the exercise's x == np.max(x) does)."),
    "dW_without_slice": (
        "dW no longer depends on the input: it sums the weights times dZ (or dZ alone) "
        "instead of the input window times dZ."),
}

FLAVOUR_WHAT = {
    "assign_not_accumulate/dA_prev_pad": (
        "Where windows overlap, or several filters share a window, dA_prev keeps only the "
        "last term instead of the sum."),
    "assign_not_accumulate/dW": (
        "dW[..., c] keeps only the last window's a_slice * dZ instead of the sum over every "
        "window."),
    "assign_not_accumulate/db": (
        "db[c] keeps only the last dZ instead of the sum of dZ over every position."),
    "assign_not_accumulate/pool": (
        "Where pool windows overlap (stride < f) a cell keeps only the last window's "
        "gradient instead of the sum."),
    "distribute_without_dz/no_dz": (
        "Every cell gets 1 / (n_H * n_W) whatever dz is (no difference when dz = 1)."),
    "distribute_without_dz/sum": (
        "dz is divided by n_H + n_W instead of n_H * n_W (no difference for a 2 x 2 window, "
        "where both are 4)."),
    "height_width_swapped/size": (
        "The output's size is computed with height and width swapped (n_H from n_W_prev, "
        "n_W from n_H_prev): on a non-square input the output has the wrong shape and its "
        "windows run past one edge (NumPy cuts them short)."),
    "mask_not_max/positive": (
        "The mask marks every positive cell (x > 0) instead of the maximum: the gradient "
        "goes to each of them."),
    "mask_not_max/min": "The mask marks the minimum: the gradient goes to the wrong cell.",
    "mask_not_max/scalar": (
        "The 'mask' is the maximum itself, one number: times dA it sends max(x) * dA to "
        "every cell of the window."),
    "mask_not_max/argmax": (
        "Only the first maximum is marked; where the maximum is tied the exercise's "
        "x == np.max(x) marks every tied cell (no difference without ties)."),
}


def what_goes_wrong(mistake: str, flavour: str) -> str:
    """The text for a flavour: its own, else its mistake's."""
    return FLAVOUR_WHAT.get(flavour, WHAT[mistake])
