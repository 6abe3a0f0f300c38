# Google's create_instances_from_document (create_pretraining_data.py,
# masking left out: it draws from the same rng but not the structure),
# over a corpus made by an LCG the C test reproduces; prints the mean and
# standard deviation of instance statistics over many seeds.
import random, sys, math

def lcg_corpus():
    x = 12345
    def r():
        nonlocal x
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return x >> 33
    docs = []
    for d in range(400):
        ns = 1 + r() % 25
        doc = []
        for j in range(ns):
            n = 1 + r() % 50
            if r() % 10 == 0:
                n = 60 + r() % 100
            doc.append([5 + r() % 1000 for _ in range(n)])
        docs.append(doc)
    return docs

def truncate_seq_pair(a, b, max_num, rng):
    while len(a) + len(b) > max_num:
        t = a if len(a) > len(b) else b
        if rng.random() < 0.5:
            del t[0]
        else:
            t.pop()

def from_document(all_documents, document_index, T, short, rng, pairs):
    document = all_documents[document_index]
    max_num_tokens = T - 3 if pairs else T - 2
    target = max_num_tokens
    if rng.random() < short:
        target = rng.randint(2, max_num_tokens)
    out = []
    chunk = []; cur = 0; i = 0
    while i < len(document):
        seg = document[i]
        chunk.append(seg); cur += len(seg)
        if i == len(document) - 1 or cur >= target:
            if chunk:
                if not pairs:
                    a = [t for s in chunk for t in s]
                    b = []
                    truncate_seq_pair(a, b, max_num_tokens, rng)
                    out.append((len(a) + 2, len(a) + 2, 0))
                    chunk = []; cur = 0; i += 1
                    continue
                a_end = 1
                if len(chunk) >= 2:
                    a_end = rng.randint(1, len(chunk) - 1)
                a = [t for s in chunk[:a_end] for t in s]
                b = []
                if len(chunk) == 1 or rng.random() < 0.5:
                    rn = 1
                    tb = target - len(a)
                    for _ in range(10):
                        rdi = rng.randint(0, len(all_documents) - 1)
                        if rdi != document_index:
                            break
                    rd = all_documents[rdi]
                    rs = rng.randint(0, len(rd) - 1)
                    for j in range(rs, len(rd)):
                        b.extend(rd[j])
                        if len(b) >= tb:
                            break
                    i -= len(chunk) - a_end
                else:
                    rn = 0
                    for j in range(a_end, len(chunk)):
                        b.extend(chunk[j])
                truncate_seq_pair(a, b, max_num_tokens, rng)
                out.append((len(a) + len(b) + 3, len(a) + 2, rn))
            chunk = []; cur = 0
        i += 1
    return out

def build(docs, T, seed, pairs):
    rng = random.Random(seed)
    docs = list(docs)
    rng.shuffle(docs)
    inst = []
    for di in range(len(docs)):
        inst.extend(from_document(docs, di, T, 0.1, rng, pairs))
    n = len(inst)
    return [n, sum(x[0] for x in inst) / n, sum(x[0] == T for x in inst) / n,
            sum(x[1] for x in inst) / n, sum(x[2] for x in inst) / n]

docs = lcg_corpus()
print("# tokens", sum(len(s) for d in docs for s in d), "sentences", sum(len(d) for d in docs))
names = ["instances", "mean_n", "frac_full", "mean_na", "random_next"]
for pairs in (1, 0):
    runs = [build(docs, 64, s, pairs) for s in range(400)]
    for k, name in enumerate(names):
        v = [r[k] for r in runs]
        m = sum(v) / len(v)
        sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))
        print("pairs=%d %-12s %.6f %.6f" % (pairs, name, m, sd))
