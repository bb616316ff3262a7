#!/usr/bin/env python3
"""Trains a small PyTorch classifier on synthetic data and logs it to Nereid.

    NEREID_URL=http://127.0.0.1:4870 NEREID_API_TOKEN=$(cat nereid-data/admin.token) \
        /usr/bin/python3 examples/pytorch_train.py

Logs params, the loss of every step, accuracy per epoch, a confusion-matrix image per epoch and
the trained model file. No downloads; under a minute on 2 cores (Debian's python3-torch)."""

import argparse
import os
import tempfile

import numpy as np
import torch
from torch import nn

import nereid
from nereid.types import File


def make_data(n: int, classes: int, seed: int):
    """Gaussian blobs in 2-D, one per class, around a circle."""
    g = np.random.default_rng(seed)
    y = g.integers(0, classes, n)
    angle = 2 * np.pi * y / classes
    centers = np.stack([np.cos(angle), np.sin(angle)], axis=1) * 2.0
    x = centers + g.normal(scale=0.6, size=(n, 2))
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)


def confusion_image(pred: np.ndarray, true: np.ndarray, classes: int) -> np.ndarray:
    """Row-normalised confusion matrix as a gray image, 20 px per cell."""
    m = np.zeros((classes, classes))
    np.add.at(m, (true, pred), 1)
    m /= np.maximum(m.sum(axis=1, keepdims=True), 1)
    return np.kron(m, np.ones((20, 20)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--classes", type=int, default=4)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    x_train, y_train = make_data(4000, args.classes, seed=1)
    x_val, y_val = make_data(1000, args.classes, seed=2)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, args.classes))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    with nereid.init_run(name="pytorch-example", tags=["example", "pytorch"]) as run:
        print(f"RUN_ID={run.id}", flush=True)
        run["params"] = {"lr": args.lr, "epochs": args.epochs, "batch_size": args.batch_size,
                         "model": {"hidden": 32, "classes": args.classes},
                         "optimizer": "sgd"}
        loss_series = run["train/loss"]
        for epoch in range(args.epochs):
            model.train()
            perm = torch.randperm(len(x_train))
            for i in range(0, len(x_train), args.batch_size):
                idx = perm[i:i + args.batch_size]
                opt.zero_grad()
                loss = loss_fn(model(x_train[idx]), y_train[idx])
                loss.backward()
                opt.step()
                loss_series.append(loss.item())
            model.eval()
            with torch.no_grad():
                pred = model(x_val).argmax(dim=1)
            acc = (pred == y_val).float().mean().item()
            run["eval/accuracy"].append(acc, step=epoch)
            run["eval/confusion"].append(
                File.as_image(confusion_image(pred.numpy(), y_val.numpy(), args.classes)),
                step=epoch)
            print(f"epoch {epoch}: accuracy {acc:.3f}", flush=True)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.pt")
            torch.save(model.state_dict(), path)
            run["model/weights"].upload(path)  # copied into the spool at once
        run["eval/final_accuracy"] = acc


if __name__ == "__main__":
    main()
