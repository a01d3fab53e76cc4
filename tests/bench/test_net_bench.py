"""The network benchmark's own logic (bench/net_bench.py): its PyTorch twin computes what
core computes, step for step, and its draw table holds the target. Nothing here times
anything. PyTorch is an optional oracle: the tests that need it are skipped without it."""

import numpy as np
import pytest

from bench import net_bench
from core.data import load_digits, load_weights
from core.net import scale_pixels
from core.train import TrainConfig, Trainer


def _digits(n):
    images, labels = load_digits().split("train")
    return images[:n], labels[:n]


def test_the_torch_network_gives_cores_probabilities_and_adam_step():
    torch = pytest.importorskip("torch")
    images, labels = _digits(40)
    params = load_weights()
    assert net_bench.check_forward(torch, params, scale_pixels(images)) <= net_bench.AGREE
    assert net_bench.check_train_step(torch, params, scale_pixels(images[:32]),
                                      labels[:32].astype(np.int64), lr=1e-2) <= net_bench.AGREE


def test_the_forward_check_refuses_a_network_in_the_wrong_flatten_order(monkeypatch):
    torch = pytest.importorskip("torch")
    images, _ = _digits(40)
    right = net_bench.torch_params

    def no_reorder(torch, params):
        out = right(torch, params)
        out["dense.weight"] = torch.from_numpy(np.ascontiguousarray(params["dense.W"].T))
        return out

    monkeypatch.setattr(net_bench, "torch_params", no_reorder)
    with pytest.raises(AssertionError, match="differ"):
        net_bench.check_forward(torch, load_weights(), scale_pixels(images))


def test_the_torch_loop_trains_like_core_train_step_for_step():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    images, labels = _digits(100)  # 4 steps an epoch: the last one short, then a new epoch
    config = TrainConfig(epochs=2)
    params = load_weights()
    ours = Trainer(images, labels, config, params=params)
    theirs = net_bench.TorchTrainer(torch, images, labels, config, params)
    assert theirs.steps_per_epoch == ours.steps_per_epoch == 4
    for _ in range(6):
        assert abs(ours.step() - theirs.step()) < 1e-10
    expected = net_bench.torch_params(torch, ours.params)
    got = theirs.model.state_dict()
    assert max(float((got[k] - expected[k]).abs().max()) for k in expected) < 1e-9


def test_fetch_parts_split_the_last_request():
    nb = {"up": 100.0, "drawn": 190.0, "drawMs": 80, "fetch": {
        "start": 112.0, "requestStart": 113.0, "responseStart": 150.0, "responseEnd": 160.0,
        "bytes": 2048, "server": 9.5}}
    parts = net_bench._fetch_parts(nb)
    assert parts == {"before_fetch_ms": 2.0, "to_first_byte_ms": 38.0, "server_ms": 9.5,
                     "download_ms": 10.0, "after_fetch_ms": 30.0, "answer_kb": 2.0,
                     "up_to_request_ms": 12.0}
    del nb["fetch"]["server"]
    assert "server_ms" not in net_bench._fetch_parts(nb)
    assert net_bench._fetch_parts({"fetch": None}) == {}


def test_draw_table_holds_the_p95_to_the_target():
    fast = [{"page_ms": 40.0, "up_to_drawn_ms": 50.0, "up_to_frame_ms": 60.0, "wall_ms": 90.0}
            for _ in range(19)]
    slow = fast + [{"page_ms": 40.0, "up_to_drawn_ms": 50.0, "up_to_frame_ms": 160.0,
                    "wall_ms": 300.0}] * 2
    assert "**miss**" not in net_bench.draw_table(fast)
    lines = net_bench.draw_table(slow).splitlines()
    frame = next(line for line in lines if line.startswith("| mouse-up to the next animation"))
    assert frame.endswith("| 60 | 160 | <= 100 ms | **miss** |")
    assert "| mouse-up to the last prediction drawn (in the page) | 50 | 50 | <= 100 ms | pass |" \
        in lines
