#!/usr/bin/python3
"""bert_torch_bench.py - PyTorch's time for one BERT MLM training step
(forward, loss over the gathered masked positions, backward; no optimizer)
at the shape `test_bert bench` times, for comparing the two:

    OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/bert_torch_bench.py THREADS [B T STEPS]
    OMP_WAIT_POLICY=passive OMP_NUM_THREADS=THREADS build/tests/test_bert bench [B T STEPS [CKPT]]

BERT-Tiny: L 2, H 128, A 2, FF 512, V 8000, dropout 0.1, 20 masked
positions per row, every row full.  Prints ms per step, tokens/s (B*T per
step) and the peak resident memory.
"""
import resource
import sys
import time

import torch
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
B = int(sys.argv[2]) if len(sys.argv) > 2 else 32
T = int(sys.argv[3]) if len(sys.argv) > 3 else 128
steps = int(sys.argv[4]) if len(sys.argv) > 4 else 3
torch.set_num_threads(threads)
torch.manual_seed(0)
L, H, A, FF, V, M = 2, 128, 2, 512, 8000, 20 * B


class Bert(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = torch.nn.Embedding(V, H)
        self.wpe = torch.nn.Embedding(512, H)
        self.wtt = torch.nn.Embedding(2, H)
        self.ln = torch.nn.LayerNorm(H, eps=1e-12)
        self.drop = torch.nn.Dropout(0.1)
        self.layers = torch.nn.ModuleList([
            torch.nn.TransformerEncoderLayer(H, A, FF, 0.1, activation="gelu", layer_norm_eps=1e-12,
                                             batch_first=True) for _ in range(L)])
        self.dense = torch.nn.Linear(H, H)
        self.hln = torch.nn.LayerNorm(H, eps=1e-12)
        self.bias = torch.nn.Parameter(torch.zeros(V))

    def forward(self, ids, types, pad, mpos, labels):
        h = self.wte(ids) + self.wtt(types) + self.wpe(torch.arange(ids.shape[1]))[None]
        h = self.drop(self.ln(h))
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=pad)
        g = h.reshape(-1, H)[mpos]
        d = self.hln(F.gelu(self.dense(g)))
        return F.cross_entropy(F.linear(d, self.wte.weight, self.bias), labels)


m = Bert()
m.train()
ids = torch.randint(0, V, (B, T))
types = torch.zeros(B, T, dtype=torch.long)
pad = torch.zeros(B, T, dtype=torch.bool)
mpos = torch.randperm(B * T)[:M]
labels = torch.randint(0, V, (M,))


def step():
    m.zero_grad(set_to_none=False)
    loss = m(ids, types, pad, mpos, labels)
    loss.backward()
    return loss


step()
t0 = time.time()
for _ in range(steps):
    step()
dt = (time.time() - t0) / steps
print("torch threads %d  B %d T %d M %d: %.1f ms/step, %.0f tokens/s (peak RSS %.0f MB)"
      % (threads, B, T, M, dt * 1e3, B * T / dt,
         resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
