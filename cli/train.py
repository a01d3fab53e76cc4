"""convstep train (= python -m core.train): retrain the network's shipped weights, or write
your own run elsewhere.

    convstep train                          # core/data/net_weights.safetensors and its .json
    convstep train --epochs 3 --out /tmp/w.safetensors

The training itself is core's (core/train.py: Adam in NumPy, the shifts, the Trainer the
server steps too); this is the command around it: its flags, the files it writes and BLAS
on one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

# BLAS on one thread: the GEMMs of an 8 x 8 network are tiny, and waking a second thread
# costs more than it saves (5x slower per step measured on 2 busy cores). The variable must
# be set before NumPy loads OpenBLAS: run() sets it, or restarts the command once with it
# when NumPy is already loaded (python -m core.train imports core, and so NumPy, first).
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def main(argv: list[str] | None = None, prog: str = "convstep train") -> int:
    """Train with the flags in argv, write the weights (and, for the shipped file, its
    NET_WEIGHTS.json record), print one line per epoch; returns the exit code."""
    from core.data import (
        MANIFOLD_PATH,
        WEIGHTS_INFO_PATH,
        WEIGHTS_PATH,
        load_digits,
        save_manifold,
        save_weights,
    )
    from core.drawn import DRAWN_SEED, accuracy_by_size, drawn_set
    from core.ood import build_manifold
    from core.train import SHIPPED, TrainConfig, evaluate, train

    argv = sys.argv[1:] if argv is None else list(argv)
    d = SHIPPED
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--lr-final", type=float, default=d.lr_final)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--shift", type=int, default=d.shift)
    p.add_argument("--warp", type=float, default=d.warp,
                   help="share of the digits slanted, turned, thickened afresh every epoch")
    p.add_argument("--synthetic", type=int, default=d.synthetic,
                   help="drawings of other letterforms added to the training digits")
    p.add_argument("--out", default=str(WEIGHTS_PATH),
                   help="where to write the weights (.safetensors); default: the shipped file")
    args = p.parse_args(argv)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         lr_final=args.lr_final, seed=args.seed, shift=args.shift,
                         warp=args.warp, synthetic=args.synthetic)
    params, history = train(config, log=print)
    digits = load_digits()
    _, train_acc = evaluate(params, *digits.split("train"))
    last = history[-1]
    drawn = accuracy_by_size(params)
    drawn_count = len(drawn_set().labels)
    info = {"command": " ".join([prog, *argv]),
            "config": config.__dict__, "train_accuracy": train_acc,
            "test_accuracy": last["test_accuracy"], "test_loss": last["test_loss"],
            "held_out": "core/data/digits.npz test_index (360 digits, 36 per class)",
            "drawn_accuracy": {("all" if k == 0 else f"{k:g}"): v for k, v in drawn.items()},
            "drawn_set": f"core/drawn.py drawn_set(): {drawn_count} drawings of "
                         f"{len(drawn) - 1} sizes, seed {DRAWN_SEED}",
            "seconds": round(last["seconds"], 1)}
    save_weights(params, args.out, metadata={"test_accuracy": last["test_accuracy"]})
    os.chmod(args.out, 0o644)  # safetensors writes 0600
    if args.out == str(WEIGHTS_PATH):
        manifold = build_manifold(*digits.split("train"), digits.split("test")[0])
        save_manifold(manifold)
        info["manifold"] = {"file": MANIFOLD_PATH.name, "threshold": manifold.threshold}
        WEIGHTS_INFO_PATH.write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {args.out}: held-out accuracy {last['test_accuracy']:.2%}, training accuracy "
          f"{train_acc:.2%}, drawn digits {drawn[0.0]:.2%}, {last['seconds']:.1f} s")
    return 0


def run(argv: list[str] | None = None, prog: str = "convstep train") -> None:
    """The command: main() with BLAS on one thread (unless OPENBLAS_NUM_THREADS is set)."""
    if "OPENBLAS_NUM_THREADS" not in os.environ:
        if "numpy" in sys.modules:  # too late to set it here: the same command, restarted
            os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]],
                      {**os.environ, **BLAS_THREADS})
        os.environ.update(BLAS_THREADS)
    raise SystemExit(main(argv, prog))


if __name__ == "__main__":
    run(prog="python -m cli.train")
