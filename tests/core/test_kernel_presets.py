"""Kernel presets: the classic 3 x 3 forms, their generalisations, and the sizes they refuse."""

import numpy as np
import pytest

from core import PRESETS, GeometryError, conv_forward, preset_kernel

CLASSIC_3 = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box_blur": np.full((3, 3), 1 / 9),
    "gaussian_blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
}
# What a flat image of ones gives: blurs and sharpen keep it, edge detectors give zero.
SUMS = {"identity": 1, "box_blur": 1, "gaussian_blur": 1, "sharpen": 1, "emboss": 1,
        "sobel_x": 0, "sobel_y": 0, "laplacian": 0, "outline": 0}


def test_presets_list_is_the_contract():
    assert PRESETS == ("identity", "box_blur", "gaussian_blur", "sharpen", "sobel_x", "sobel_y",
                       "laplacian", "emboss", "outline")
    assert set(CLASSIC_3) == set(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_classic_3x3_forms(name):
    k = preset_kernel(name, 3)
    assert k.shape == (3, 3) and k.dtype == np.float64
    np.testing.assert_allclose(k, CLASSIC_3[name], atol=1e-15)


@pytest.mark.parametrize("f", [3, 5, 7, 9])
@pytest.mark.parametrize("name", PRESETS)
def test_odd_sizes_keep_the_character_of_each_preset(name, f):
    k = preset_kernel(name, f)
    assert k.shape == (f, f)
    assert k.sum() == pytest.approx(SUMS[name], abs=1e-12)
    if name in ("sobel_x", "laplacian", "outline", "gaussian_blur", "box_blur", "identity"):
        np.testing.assert_allclose(k, k[:, ::-1] * (-1 if name == "sobel_x" else 1))
    if name == "sobel_y":
        np.testing.assert_allclose(k, preset_kernel("sobel_x", f).T)
    if name == "gaussian_blur":
        c = f // 2
        assert k[c, c] == k.max() and (k > 0).all()


def test_sobel_5_is_the_usual_one():
    np.testing.assert_allclose(preset_kernel("sobel_x", 5),
                               np.outer([1, 4, 6, 4, 1], [-1, -2, 0, 2, 1]))


@pytest.mark.parametrize("f", [1, 2, 4, 6])
def test_identity_and_box_blur_exist_for_every_f(f):
    assert preset_kernel("identity", f).sum() == 1.0
    np.testing.assert_allclose(preset_kernel("box_blur", f), np.full((f, f), 1 / f**2))


@pytest.mark.parametrize("f", [3, 5])
def test_identity_kernel_with_same_padding_reproduces_the_image(rng, f):
    A_prev = rng.standard_normal((1, 6, 7, 1))
    W = preset_kernel("identity", f).reshape(f, f, 1, 1)
    Z, _ = conv_forward(A_prev, W, np.zeros((1, 1, 1, 1)), {"stride": 1, "pad": f // 2})
    np.testing.assert_allclose(Z, A_prev, atol=1e-15)


@pytest.mark.parametrize("name", [n for n in PRESETS if n not in ("identity", "box_blur")])
@pytest.mark.parametrize("f", [1, 2, 4])
def test_centred_presets_refuse_sizes_without_a_centre(name, f):
    with pytest.raises(GeometryError, match=f"'{name}' needs a centre cell.*f = {f}"):
        preset_kernel(name, f)


def test_unknown_name_and_bad_f():
    with pytest.raises(GeometryError, match="preset must be one of"):
        preset_kernel("unsharp", 3)
    with pytest.raises(GeometryError, match="at least 1"):
        preset_kernel("identity", 0)
