"""A small character-level language model on CPU (PyTorch), trained plain or with DP-SGD through Veil's path.

Each line of the corpus is one training example (one message, one person's note): the unit DP-SGD protects. The
model reads a line and predicts every character from the ``window`` before it (embeddings, one hidden layer); a
line's loss is the mean over its own characters, so one line's gradient never depends on another's. Only layers
Opacus computes per-example gradients for (Embedding, Linear), so the same model trains privately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from veil.errors import InputError

PAD = "\x00"
END = "\n"
IGNORE = -100  # the label of the padding after a line's end: no loss there
MAX_LINE = 2000


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
        """-log2 P(secret | prefix at the start of a line), summed over the secret's characters, for each secret."""
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
        first = len(prefix)  # the output position that predicts the secret's first character
        self.module.eval()
        out = np.zeros(len(secrets))
        with torch.no_grad():
            for lo in range(0, len(secrets), 1024):
                logits = self.module(torch.tensor(full[lo : lo + 1024]))[:, first : first + length]
                logp = torch.log_softmax(logits.double(), dim=-1).numpy()
                picked = np.take_along_axis(logp, body[lo : lo + 1024, :, None], axis=2)[..., 0]
                out[lo : lo + 1024] = -picked.sum(axis=1) / np.log(2)
        return out


def bits_per_char(lm: CharLM, lines: list[str]) -> float:
    """The model's mean -log2 P(character) over held-out lines (end of line included): lower predicts better."""
    from veil.dp.training import _torch

    torch = _torch()
    index = set(lm.alphabet)
    lines = [line for line in lines if line.strip() and set(line) <= index]
    if not lines:
        raise InputError("no held-out line within the model's alphabet")
    codes, labels = examples(lm, lines)
    lm.module.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for lo in range(0, len(lines), 256):
            logits = lm.module(torch.tensor(codes[lo : lo + 256])).double()
            y = torch.tensor(labels[lo : lo + 256])
            each = torch.nn.functional.cross_entropy(logits.transpose(1, 2), y, reduction="sum", ignore_index=IGNORE)
            total, count = total + float(each), count + int((y != IGNORE).sum())
    return total / count / float(np.log(2))


def _module(vocab: int, window: int, embed: int, hidden: int) -> Any:
    from veil.dp.training import _torch

    nn = _torch().nn

    class CharNet(nn.Module):  # type: ignore[misc,name-defined]
        """(lines, window + length) codes -> (lines, length, vocab) logits of each next character."""

        def __init__(self) -> None:
            super().__init__()
            self.window = window
            self.embed = nn.Embedding(vocab, embed)
            self.hidden = nn.Linear(window * embed, hidden)
            self.out = nn.Linear(hidden, vocab)

        def forward(self, codes: Any) -> Any:
            emb = self.embed(codes)  # (B, T, E)
            ctx = emb.unfold(1, self.window, 1)[:, :-1]  # (B, T - window, E, window): the window before each
            ctx = ctx.transpose(-1, -2).reshape(codes.shape[0], codes.shape[1] - self.window, -1)
            return self.out(nn.functional.relu(self.hidden(ctx)))

    return CharNet()


def examples(lm: CharLM, lines: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """One row per line: its codes after ``window`` pads (padded at the end to the longest line), and the label of
    each position (the next character, IGNORE past the line's end)."""
    longest = max(len(line) for line in lines) + 1
    codes = np.zeros((len(lines), lm.window + longest), dtype=np.int64)  # PAD is code 0
    labels = np.full((len(lines), longest), IGNORE, dtype=np.int64)
    for i, line in enumerate(lines):
        encoded = lm.encode(line + END)
        codes[i, lm.window : lm.window + len(encoded)] = encoded
        labels[i, : len(encoded)] = encoded
    return codes, labels


def train_charlm(lines: list[str], *, window: int = 24, embed: int = 16, hidden: int = 256, epochs: int = 10,
                 batch_size: int | None = None, learning_rate: float = 0.5, epsilon: float | None = None,
                 delta: float | None = None, seed: int = 0, extra_chars: str = "") -> CharLM:  # fmt: skip
    """Train on ``lines`` (one example each); ``epsilon``: DP-SGD (Opacus) to that epsilon per line at ``delta``
    (default 1 / (10 x lines)). A secret repeated in k lines is protected at about k x epsilon (group privacy).
    ``batch_size``: lines per step (default: about 40 steps an epoch, 16 to 256 lines; DP-SGD likes large ones)."""
    from veil.dp.training import _torch, train_plain, train_private

    torch = _torch()
    lines = [line for line in lines if line.strip()]
    if len(lines) < 20 or sum(map(len, lines)) < 10 * window:
        raise InputError("the corpus is too short to train a language model on (20 lines or more)")
    if max(map(len, lines)) > MAX_LINE:
        raise InputError(f"a line is longer than {MAX_LINE} characters: split the corpus into shorter examples")
    torch.manual_seed(seed)
    alphabet = PAD + END + "".join(sorted(set("".join(lines) + extra_chars) - {PAD, END}))
    lm = CharLM(alphabet, window, _module(len(alphabet), window, embed, hidden))
    x, y = examples(lm, lines)
    batch_size = batch_size or min(256, max(16, len(lines) // 40))
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
