#!/usr/bin/python3
"""torch-charlm.py - rnn-train's model, data and optimizer in PyTorch.

    torch-charlm.py --init INIT.nkw --data FILE [--steps N] [--threads J]
                    [--no-eval] [--time]

INIT.nkw is a model written by `rnn-train train --steps 0 ...`: its
weights are the initial weights here, and its metadata give the model
(cell, layers, hidden, embedding, vocabulary, dropout) and the training
settings (batch, bptt, lr, clip, weight decay, validation fraction).  The
data go through the same pipeline as in lib/text/textdata.c: the symbols mapped
by the stored vocabulary, the last part held out, B parallel streams of T
steps with the hidden state carried (and reset when the streams start
over).  Adam (or AdamW with weight decay), global-norm clipping.

Prints one line per step, `step N loss L`, then (unless --no-eval)
`val L` (mean nats over the held-out part, evaluated as
nk_charlm_evaluate does), and with --time `chars_per_s R` (training steps
only).  Needs Debian's python3-torch and numpy (run with /usr/bin/python3).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import nkw  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def read_ids(path, meta):
    level = meta["level"]
    with open(path, "rb") as f:
        raw = f.read()
    if level == "tokens":
        ids = [int(t) for t in raw.split()]
        return np.array(ids, dtype=np.int64)
    if level == "byte":
        syms = np.frombuffer(raw, dtype=np.uint8).astype(np.int64)
    else:
        text = raw.decode("utf-8", errors="surrogateescape")
        syms = np.array([ord(c) for c in text], dtype=np.int64)
    vocab = np.array(meta["vocab"], dtype=np.int64)
    ids = np.searchsorted(vocab, syms)
    if np.any(ids >= len(vocab)) or np.any(vocab[np.minimum(ids, len(vocab) - 1)] != syms):
        sys.exit("torch-charlm: a symbol outside the model's vocabulary")
    return ids


class CharLM(nn.Module):
    def __init__(self, cell, L, H, C, V, dropout):
        super().__init__()
        self.embed = nn.Embedding(V, C)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.rnn = rnn(C, H, L, dropout=dropout)
        self.out = nn.Linear(H, V)
        self.cell = cell

    def forward(self, x, state):
        h, state = self.rnn(self.embed(x), state)
        return self.out(h), state


def load_init(model, f, L):
    t = f.tensors
    with torch.no_grad():
        model.embed.weight.copy_(torch.from_numpy(np.array(t["embed.weight"])))
        for l in range(L):
            for ours, theirs in (("w_ih", "weight_ih"), ("w_hh", "weight_hh"),
                                 ("b_ih", "bias_ih"), ("b_hh", "bias_hh")):
                getattr(model.rnn, "%s_l%d" % (theirs, l)).copy_(
                    torch.from_numpy(np.array(t["rnn.%d.%s" % (l, ours)])))
        model.out.weight.copy_(torch.from_numpy(np.array(t["out.weight"])))
        model.out.bias.copy_(torch.from_numpy(np.array(t["out.bias"])))


def zero_state(cell, L, B, H):
    z = torch.zeros(L, B, H)
    return (z, z.clone()) if cell == "lstm" else z


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def evaluate(model, cell, ids, B, T, L, H):
    n = len(ids)
    Be = max(1, min(B, (n - 1) // T))
    length = (n - 1) // Be
    state = zero_state(cell, L, Be, H)
    total = 0.0
    model.eval()
    with torch.no_grad():
        for pos in range(0, length, T):
            Tc = min(T, length - pos)
            idx = np.arange(Be)[None, :] * length + pos + np.arange(Tc)[:, None]
            x = torch.from_numpy(ids[idx])
            y = torch.from_numpy(ids[idx + 1])
            logits, state = model(x, state)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                     y.reshape(-1), reduction="sum").item()
    model.train()
    return total / (length * Be)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--time", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    f = nkw.load(a.init)
    m = f.meta
    cell, L, H, C, V = m["cell"], m["layers"], m["hidden"], m["embedding"], m["vocab_size"]
    B, T = m["batch"], m["bptt"]
    model = CharLM(cell, L, H, C, V, m["dropout"])
    load_init(model, f, L)
    ids = read_ids(a.data, m)
    n = len(ids)
    nval = int(n * m["val_fraction"])
    ntrain = n - nval
    length = ntrain // B
    if length < T + 1:
        sys.exit("torch-charlm: data too short")
    if m["weight_decay"] > 0:
        opt = torch.optim.AdamW(model.parameters(), lr=m["lr"], betas=(0.9, 0.999),
                                eps=1e-8, weight_decay=m["weight_decay"])
    else:
        opt = torch.optim.Adam(model.parameters(), lr=m["lr"], betas=(0.9, 0.999), eps=1e-8)
    state = zero_state(cell, L, B, H)
    pos = 0
    base = np.arange(B)[None, :] * length + np.arange(T)[:, None]
    train_time = 0.0
    for step in range(1, a.steps + 1):
        t0 = time.perf_counter()
        if pos + T + 1 > length:
            pos = 0
            state = zero_state(cell, L, B, H)
        x = torch.from_numpy(ids[base + pos])
        y = torch.from_numpy(ids[base + pos + 1])
        pos += T
        state = detach(state)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad(set_to_none=False)
        loss.backward()
        if m["clip"] > 0:
            nn.utils.clip_grad_norm_(model.parameters(), m["clip"])
        opt.step()
        lv = loss.item()
        train_time += time.perf_counter() - t0
        print("step %d loss %.9g" % (step, lv))
    if not a.no_eval and nval >= 2:
        print("val %.9g" % evaluate(model, cell, ids[ntrain:], B, T, L, H))
    if a.time:
        print("chars_per_s %.1f" % (a.steps * B * T / max(train_time, 1e-9)))


if __name__ == "__main__":
    main()
