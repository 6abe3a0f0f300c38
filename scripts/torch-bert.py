#!/usr/bin/env python3
"""torch-bert.py - bert-mask's model in PyTorch, for the reference tests
and the benchmark.

    torch-bert.py steps --init INIT.nkw --run RUN.nkw --instances I.txt --steps N
        Trains from bert-mask's initial weights (`bert-mask train
        --steps 0` writes them) on a text instance stream (`bert-mask mask
        --text`), every instance in every step (the batch order does not
        change a mean), with AdamW, the schedule and the clip that the
        run's checkpoint RUN records; prints "step K loss L".
    torch-bert.py fill --model M.nkw --ids "IDS"
        The softmax over the vocabulary at each [MASK] of the ids (with
        [CLS] and [SEP] already there); prints "MASK ID PROB" for all ids.
    torch-bert.py bench --init INIT.nkw --instances TRAIN.txt
            [--test TEST.txt] [--batch B] [--steps N | --seconds S]
        Trains as bert-mask trains (batches of B instances in a seeded
        order, dropout on) and prints tokens/s, then the held-out loss and
        top-1 accuracy on TEST.  With --seconds and no --sched-steps the
        linear warmup and decay run over the time budget.

The network is built from torch.nn: nn.Embedding for the three
embeddings, nn.TransformerEncoderLayer (post-norm, GELU) for the layers,
nn.Linear and nn.LayerNorm for the MLM head, the output tied to the token
embedding; a model trained with --alibi passes ALiBi's distance penalty
as the layers' float attention mask.  Needs numpy and torch (Debian's python3-torch).
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nkw  # noqa: E402


def gelu_fn(kind):
    if kind == "tanh":
        return lambda x: F.gelu(x, approximate="tanh")
    return F.gelu


def alibi_slopes(A):
    """nk_alibi_slope's (nn/attention.h): from 8 heads ALiBi's get_slopes()
    (Press et al.'s code); below, from 1/2 in steps of 2^(-8/A)."""
    if A < 8:
        return [2.0 ** (-1.0 - 8.0 * a / A) for a in range(A)]

    def power_of_2(n):
        return [2.0 ** (-8.0 * (i + 1) / n) for i in range(n)]
    n = 2 ** int(math.floor(math.log2(A)))
    return power_of_2(n) + power_of_2(2 * n)[0::2][:A - n]


def alibi_mask(B, A, T):
    """(B*A, T, T): -m_a |i - j|, the float attn_mask nn.MultiheadAttention
    adds to head a's scores (batch-major, as it wants)."""
    d = torch.arange(T)
    dist = (d[:, None] - d[None, :]).abs().float()
    m = torch.tensor(alibi_slopes(A), dtype=torch.float32)
    return (-m[:, None, None] * dist[None]).repeat(B, 1, 1)


class Bert(nn.Module):
    def __init__(self, m):
        super().__init__()
        H, V, P, A, FF = m["hidden"], m["vocab_size"], m["positions"], m["heads"], m["ff"]
        p, eps = m["dropout"], m["ln_eps"]
        self.act = gelu_fn(m["gelu"])
        self.heads = A
        self.alibi = m.get("attention_bias", "none") == "alibi"
        self.wte = nn.Embedding(V, H)
        self.wpe = nn.Embedding(P, H)
        self.wtt = nn.Embedding(m["types"], H)
        self.ln_emb = nn.LayerNorm(H, eps=eps)
        self.drop = nn.Dropout(p)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(H, A, FF, p, activation=self.act,
                                       layer_norm_eps=eps, batch_first=True,
                                       norm_first=False)
            for _ in range(m["layers"])])
        self.mlm = nn.Linear(H, H)
        self.mlm_ln = nn.LayerNorm(H, eps=eps)
        self.mlm_bias = nn.Parameter(torch.zeros(V))

    def forward(self, ids, types, lengths, mpos):
        B, T = ids.shape
        x = self.wte(ids) + self.wpe(torch.arange(T))[None] + self.wtt(types)
        x = self.drop(self.ln_emb(x))
        pad = torch.arange(T)[None, :] >= lengths[:, None]
        bias = alibi_mask(B, self.heads, T) if self.alibi else None
        for layer in self.layers:
            x = layer(x, src_mask=bias, src_key_padding_mask=pad)
        h = x.reshape(B * T, -1)[mpos]
        h = self.mlm_ln(self.act(self.mlm(h)))
        return h @ self.wte.weight.t() + self.mlm_bias

    def groups(self):
        """AdamW's groups as bert-mask's: decay on matrices and embeddings."""
        decay, rest = [], []
        for name, p in self.named_parameters():
            (decay if p.dim() == 2 else rest).append(p)
        return decay, rest


def load(model, f):
    t = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in f.tensors.items()}
    sd = {"wte.weight": t["wte"], "wpe.weight": t["wpe"], "wtt.weight": t["wtt"],
          "ln_emb.weight": t["ln_emb_w"], "ln_emb.bias": t["ln_emb_b"],
          "mlm.weight": t["mlm_w"], "mlm.bias": t["mlm_b"],
          "mlm_ln.weight": t["mlm_ln_w"], "mlm_ln.bias": t["mlm_ln_b"],
          "mlm_bias": t["mlm_bias"]}
    for i in range(len(model.layers)):
        g = lambda n: t["layer.%d.%s" % (i, n)]  # noqa: E731
        pre = "layers.%d." % i
        sd.update({pre + "self_attn.in_proj_weight": g("qkv_w"),
                   pre + "self_attn.in_proj_bias": g("qkv_b"),
                   pre + "self_attn.out_proj.weight": g("proj_w"),
                   pre + "self_attn.out_proj.bias": g("proj_b"),
                   pre + "linear1.weight": g("ff1_w"), pre + "linear1.bias": g("ff1_b"),
                   pre + "linear2.weight": g("ff2_w"), pre + "linear2.bias": g("ff2_b"),
                   pre + "norm1.weight": g("ln1_w"), pre + "norm1.bias": g("ln1_b"),
                   pre + "norm2.weight": g("ln2_w"), pre + "norm2.bias": g("ln2_b")})
    model.load_state_dict(sd, strict=True)


def read_instances(path):
    """nnkit-mlm(5)'s text form: RANDOM_NEXT NA IDS POSITIONS LABELS."""
    out = []
    with open(path) as fp:
        for line in fp:
            f = line.rstrip("\n").split("\t")
            ids = [int(x) for x in f[2].split()]
            na = int(f[1])
            types = [0] * na + [1] * (len(ids) - na)
            pos = [int(x) for x in f[3].split()] if f[3] else []
            lab = [int(x) for x in f[4].split()] if f[4] else []
            out.append((ids, types, pos, lab))
    return out


def batch(insts, pad):
    T = max(len(i[0]) for i in insts)
    B = len(insts)
    ids = torch.full((B, T), pad, dtype=torch.long)
    types = torch.zeros((B, T), dtype=torch.long)
    lengths = torch.tensor([len(i[0]) for i in insts])
    mpos, lab = [], []
    for b, (x, ty, pos, lb) in enumerate(insts):
        ids[b, :len(x)] = torch.tensor(x)
        types[b, :len(ty)] = torch.tensor(ty)
        mpos += [b * T + p for p in pos]
        lab += lb
    return ids, types, lengths, torch.tensor(mpos, dtype=torch.long), torch.tensor(lab)


def lr_lambda(m):
    """bert-mask's schedules (nn/lr.c): warmup (step + 1) / warmup, then
    linear or constant to the last step."""
    warm, total, sched = m["warmup"], m["steps"], m["schedule"]

    def f(step):
        if step < warm:
            return (step + 1) / warm
        if sched == "linear":
            S = total - warm
            k = step - warm
            return 0.0 if S <= 0 or k >= S else (S - k) / S
        return 1.0
    return f


def optimizer(model, m):
    decay, rest = model.groups()
    return torch.optim.AdamW([{"params": decay, "weight_decay": m["weight_decay"]},
                              {"params": rest, "weight_decay": 0.0}],
                             lr=m["lr"], betas=(0.9, 0.999), eps=1e-8)


def train_step(model, opt, sched, m, b):
    """One step; sched may be None (the caller sets the rate)."""
    ids, types, lengths, mpos, lab = b
    logits = model(ids, types, lengths, mpos)
    loss = F.cross_entropy(logits, lab)
    opt.zero_grad(set_to_none=False)
    loss.backward()
    if m["clip"] > 0:
        nn.utils.clip_grad_norm_(model.parameters(), m["clip"])
    opt.step()
    if sched is not None:
        sched.step()
    return loss.item()


def cmd_steps(a):
    f = nkw.load(a.init)
    m = dict(nkw.load(a.run).meta)
    model = Bert(m)
    load(model, f)
    insts = read_instances(a.instances)
    b = batch(insts, m["pad_id"])
    opt = optimizer(model, m)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(m))
    model.train()
    for step in range(1, a.steps + 1):
        print("step %d loss %.9g" % (step, train_step(model, opt, sched, m, b)))


def cmd_fill(a):
    f = nkw.load(a.model)
    m = f.meta
    model = Bert(m)
    load(model, f)
    model.eval()
    ids = [int(x) for x in a.ids.split()]
    mpos = [i for i, x in enumerate(ids) if x == m["mask_id"]]
    with torch.no_grad():
        logits = model(torch.tensor([ids]), torch.zeros((1, len(ids)), dtype=torch.long),
                       torch.tensor([len(ids)]), torch.tensor(mpos))
        prob = torch.softmax(logits.double(), dim=-1)
    for j in range(len(mpos)):
        for v in range(prob.shape[1]):
            print("%d %d %.9g" % (j + 1, v, prob[j, v].item()))


def evaluate(model, insts, pad, B):
    model.eval()
    loss, hits, count = 0.0, 0, 0
    with torch.no_grad():
        for i in range(0, len(insts), B):
            ids, types, lengths, mpos, lab = batch(insts[i:i + B], pad)
            if len(lab) == 0:
                continue
            logits = model(ids, types, lengths, mpos)
            loss += F.cross_entropy(logits, lab, reduction="sum").item()
            hits += (logits.argmax(-1) == lab).sum().item()
            count += len(lab)
    model.train()
    return loss / max(count, 1), hits / max(count, 1)


def cmd_bench(a):
    torch.set_num_threads(a.threads)
    f = nkw.load(a.init)
    m = dict(f.meta)
    # The schedule's length: the steps to run, or those the time allows.
    m["steps"] = a.sched_steps or a.steps or m["steps"]
    if a.warmup >= 0:
        m["warmup"] = a.warmup
    model = Bert(m)
    load(model, f)
    insts = read_instances(a.instances)
    opt = optimizer(model, m)
    sched = None if a.seconds and not a.sched_steps else \
        torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(m))
    rng = np.random.default_rng(a.seed)
    order, pos, step, tokens, spent = rng.permutation(len(insts)), 0, 0, 0, 0.0
    curve = []
    t_start = time.perf_counter()
    while True:
        if a.steps and step >= a.steps:
            break
        if a.seconds and time.perf_counter() - t_start >= a.seconds:
            break
        if pos + a.batch > len(insts):
            order, pos = rng.permutation(len(insts)), 0
        chunk = [insts[i] for i in order[pos:pos + a.batch]]
        pos += a.batch
        t0 = time.perf_counter()
        if a.seconds and not a.sched_steps:
            # The schedule in time, not steps: warmup over the first tenth
            # of the budget, then linear decay to 0 at its end, whatever
            # speed the machine gives.
            f = (t0 - t_start) / a.seconds
            f = f / 0.1 if f < 0.1 else max(0.0, (1 - f) / 0.9)
            for g in opt.param_groups:
                g["lr"] = m["lr"] * f
        b = batch(chunk, m["pad_id"])
        loss = train_step(model, opt, sched, m, b)
        spent += time.perf_counter() - t0
        tokens += sum(len(i[0]) for i in chunk)
        step += 1
        if a.log_every and step % a.log_every == 0:
            print("loss %d %.1f %.4f" % (step, time.perf_counter() - t_start, loss), flush=True)
        if a.curve and step % a.curve == 0 and a.test:
            vl, acc = evaluate(model, read_instances(a.test), m["pad_id"], 32)
            curve.append((step, time.perf_counter() - t_start, vl, acc))
    print("steps %d tokens %d seconds %.3f tokens_per_s %.1f last_loss %.4f" %
          (step, tokens, spent, tokens / max(spent, 1e-9), loss))
    for s, t, vl, acc in curve:
        print("curve %d %.1f %.4f %.4f" % (s, t, vl, acc))
    if a.test:
        vl, acc = evaluate(model, read_instances(a.test), m["pad_id"], 32)
        print("test_loss %.4f test_top1 %.4f" % (vl, acc))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("steps")
    s.add_argument("--init", required=True)
    s.add_argument("--run", required=True)
    s.add_argument("--instances", required=True)
    s.add_argument("--steps", type=int, default=10)
    s = sub.add_parser("fill")
    s.add_argument("--model", required=True)
    s.add_argument("--ids", required=True)
    s = sub.add_parser("bench")
    s.add_argument("--init", required=True)
    s.add_argument("--instances", required=True)
    s.add_argument("--test")
    s.add_argument("--batch", type=int, default=32)
    s.add_argument("--steps", type=int, default=0)
    s.add_argument("--seconds", type=float, default=0)
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--curve", type=int, default=0)
    s.add_argument("--sched-steps", type=int, default=0)
    s.add_argument("--log-every", type=int, default=0)
    s.add_argument("--warmup", type=int, default=-1)
    a = ap.parse_args()
    torch.manual_seed(0)
    {"steps": cmd_steps, "fill": cmd_fill, "bench": cmd_bench}[a.cmd](a)


if __name__ == "__main__":
    main()
