"""A small character-level language model on CPU (PyTorch), trained plain or with DP-SGD through Veil's path.

Fixed-window: the next character from the ``window`` before it (embeddings, one hidden layer). Only layers Opacus
computes per-example gradients for (Embedding, Linear), so the same model trains privately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from veil.errors import InputError

PAD = "\x00"


@dataclass
class CharLM:
    alphabet: str
    window: int
    module: Any
    epsilon: float | None = None

    def encode(self, text: str) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.alphabet)}
        unknown = sorted({c for c in text if c not in index})
        if unknown:
            raise InputError(f"{len(unknown)} character(s) outside the model's alphabet")
        return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))

    def log2_perplexity(self, prefix: str, secrets: list[str]) -> np.ndarray:
        """-log2 P(secret | prefix), summed over the secret's characters, for each secret (one batched pass)."""
        from veil.dp.training import _torch

        torch = _torch()
        if not secrets:
            return np.zeros(0)
        length = len(secrets[0])
        if any(len(s) != length for s in secrets):
            raise InputError("secrets of one format have one length")
        head = self.encode(PAD * self.window + prefix)
        body = np.stack([self.encode(s) for s in secrets])
        full = np.concatenate([np.broadcast_to(head, (len(secrets), len(head))), body], axis=1)
        start = len(head)
        contexts = np.stack([full[:, start + i - self.window : start + i] for i in range(length)], axis=1)
        self.module.eval()
        out = np.zeros(len(secrets))
        with torch.no_grad():
            for lo in range(0, len(secrets), 2048):
                ctx = torch.tensor(contexts[lo : lo + 2048].reshape(-1, self.window))
                logp = torch.log_softmax(self.module(ctx).double(), dim=1).numpy()
                picked = logp[np.arange(len(ctx)), body[lo : lo + 2048].reshape(-1)].reshape(-1, length)
                out[lo : lo + 2048] = -picked.sum(axis=1) / np.log(2)
        return out


def _module(vocab: int, window: int, embed: int, hidden: int) -> Any:
    from veil.dp.training import _torch

    nn = _torch().nn
    return nn.Sequential(nn.Embedding(vocab, embed), nn.Flatten(), nn.Linear(window * embed, hidden), nn.ReLU(),
                         nn.Linear(hidden, vocab))  # fmt: skip


def examples(lm: CharLM, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Every (window, next character) pair of the text, padded at the start."""
    codes = lm.encode(PAD * lm.window + text)
    view = np.lib.stride_tricks.sliding_window_view(codes[:-1], lm.window)
    return np.ascontiguousarray(view), codes[lm.window :]


def train_charlm(text: str, *, window: int = 24, embed: int = 16, hidden: int = 256, epochs: int = 10,
                 batch_size: int = 256, learning_rate: float = 0.1, epsilon: float | None = None,
                 delta: float | None = None, seed: int = 0, extra_chars: str = "") -> CharLM:  # fmt: skip
    """Train on ``text``; ``epsilon``: DP-SGD (Opacus) to that epsilon at ``delta`` (default 1 / (10 x examples))."""
    from veil.dp.training import _torch, train_plain, train_private

    torch = _torch()
    if len(text) < 10 * window:
        raise InputError("the corpus is too short to train a language model on")
    torch.manual_seed(seed)
    alphabet = PAD + "".join(sorted(set(text + extra_chars) - {PAD}))
    lm = CharLM(alphabet, window, _module(len(alphabet), window, embed, hidden))
    x, y = examples(lm, text)
    features, labels = torch.tensor(x), torch.tensor(y)
    if epsilon is None:
        lm.module = train_plain(lm.module, features, labels, epochs=epochs, batch_size=batch_size,
                                learning_rate=learning_rate, seed=seed)  # fmt: skip
    else:
        result = train_private(lm.module, features, labels, target_epsilon=epsilon,
                               target_delta=delta or 1.0 / (10 * len(labels)), epochs=epochs, batch_size=batch_size,
                               learning_rate=learning_rate, seed=seed)  # fmt: skip
        lm.module, lm.epsilon = result.model, result.epsilon
    return lm
