"""Extract scikit-learn's bundled 8 x 8 digits into core/data/digits.npz (run once; kept as
the record of how the shipped file was made).

The data: "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak, UCI Machine
Learning Repository (1998), CC BY 4.0; scikit-learn ships its test part (1797 images by 13
writers) as sklearn/datasets/data/digits.csv.gz: one row per image, 64 pixels 0..16 (on-pixels
in each 4 x 4 block of a 32 x 32 bitmap) then the label.

    pip download --no-deps -d /tmp/skl scikit-learn        # the wheel only, nothing installed
    python scripts/extract_digits.py /tmp/skl/scikit_learn-*.whl

writes core/data/digits.npz with
    images       uint8 (1797, 8, 8), 0..16, in the csv's order
    labels       uint8 (1797,), 0..9
    train_index  int16 (1437,)  the fixed training split
    test_index   int16 (360,)   the fixed held-out split: 36 images of each class, drawn with
                                numpy.random.default_rng(20261202) (sorted)
No scikit-learn is needed at run time: convstep reads only the .npz.
"""

from __future__ import annotations

import argparse
import gzip
import io
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "sklearn/datasets/data/digits.csv.gz"
OUT = Path(__file__).resolve().parent.parent / "core" / "data" / "digits.npz"
SPLIT_SEED = 20261202
HELD_OUT_PER_CLASS = 36


def read_csv_gz(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    rows = np.loadtxt(io.StringIO(gzip.decompress(raw).decode("ascii")), delimiter=",",
                      dtype=np.int64)
    if rows.shape != (1797, 65) or rows[:, :64].min() < 0 or rows[:, :64].max() > 16:
        raise SystemExit(f"unexpected digits.csv.gz: shape {rows.shape}")
    return rows[:, :64].reshape(-1, 8, 8).astype(np.uint8), rows[:, 64].astype(np.uint8)


def split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SPLIT_SEED)
    test = np.concatenate([rng.choice(np.flatnonzero(labels == c), HELD_OUT_PER_CLASS,
                                      replace=False) for c in range(10)])
    test.sort()
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train.astype(np.int16), test.astype(np.int16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="a scikit-learn wheel or digits.csv.gz")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.source.suffix == ".whl":
        with zipfile.ZipFile(args.source) as whl:
            raw = whl.read(MEMBER)
    else:
        raw = args.source.read_bytes()
    images, labels = read_csv_gz(raw)
    train_index, test_index = split(labels)
    np.savez_compressed(args.out, images=images, labels=labels, train_index=train_index,
                        test_index=test_index)
    print(f"wrote {args.out}: {len(labels)} images, {len(train_index)} train, "
          f"{len(test_index)} held out")


if __name__ == "__main__":
    main()
