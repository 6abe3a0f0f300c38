#!/usr/bin/env bash
# t_w2v_gensim.sh - w2v-train and w2v-query against gensim (Debian's
# python3-gensim for /usr/bin/python3):
#   - gensim's KeyedVectors.load_word2vec_format loads our text and binary
#     vectors and gets the same words and vectors (binary exactly, text to
#     the 6 significant digits written);
#   - w2v-query reads gensim's own text and binary output and finds the
#     same nearest neighbours as gensim's most_similar;
#   - our analogy evaluator and gensim's evaluate_word_analogies give the
#     same counts, section by section, on the same vectors and cut-off.
# Without the peer, also (no gensim needed): two -j 1 runs with one seed
# give identical bytes, a different seed different ones, and --resume
# trains on from a saved state.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PATH="$PWD/$BUILD/bin:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A corpus with planted structure: 12 topics of 8 words; each line mixes
# words of one topic with a few common words.  Seeded awk: reproducible.
awk 'BEGIN { srand(7); for (i = 0; i < 4000; i++) { t = int(rand() * 12);
	line = ""; for (k = 0; k < 12; k++) {
		w = rand() < 0.2 ? "the" : sprintf("t%dw%d", t, int(rand() * 8));
		line = line (k ? " " : "") w }
	print line } }' >"$tmp/corpus.txt"

check() { # name, then a command whose success is the verdict
	local name=$1; shift
	if "$@"; then echo "PASS $name"; else echo "FAIL $name"; fi
}

opts="-d 24 -m 1 -e 3 -s 1e-3"
w2v-train $opts -j 1 --seed 5 -b -o "$tmp/a.bin" "$tmp/corpus.txt"
w2v-train $opts -j 1 --seed 5 -b -o "$tmp/b.bin" "$tmp/corpus.txt"
w2v-train $opts -j 1 --seed 6 -b -o "$tmp/c.bin" "$tmp/corpus.txt"
check w2v-deterministic-one-thread cmp -s "$tmp/a.bin" "$tmp/b.bin"
check w2v-seed-changes-result eval '! cmp -s "$tmp/a.bin" "$tmp/c.bin"'
w2v-train $opts -j 1 --seed 5 -o "$tmp/a.txt" -S "$tmp/a.nkw" "$tmp/corpus.txt"
check w2v-state-matches-vectors eval \
	'[ "$(w2v-query near -k 3 "$tmp/a.nkw" t0w0)" = "$(w2v-query near -k 3 "$tmp/a.bin" t0w0)" ]'
w2v-train -r "$tmp/a.nkw" -e 1 -j 1 -b -o "$tmp/r.bin" -S "$tmp/r.nkw" "$tmp/corpus.txt"
check w2v-resume-trains-on eval '[ -s "$tmp/r.nkw" ] && ! cmp -s "$tmp/a.bin" "$tmp/r.bin"'
# Neighbours of a planted word come from its topic.
n=$(w2v-query near -k 5 "$tmp/a.bin" t3w1 | awk '$2 ~ /^t3w/' | wc -l)
check w2v-planted-neighbours [ "$n" -ge 4 ]

if ! /usr/bin/python3 -c 'import gensim' 2>/dev/null; then
	echo "SKIP w2v-gensim: python3-gensim is not installed for /usr/bin/python3"
	exit 0
fi

# Questions over the vocabulary: "a b c d" with d in c's topic, so that
# some are right and some wrong; two sections, one "gram".
awk 'BEGIN { srand(11); print ": topics"
	for (i = 0; i < 300; i++) { if (i == 150) print ": gram-topics"
		t = int(rand() * 12); u = int(rand() * 12)
		printf "t%dw%d t%dw%d t%dw%d t%dw%d\n", t, int(rand() * 8), t, int(rand() * 8),
			u, int(rand() * 8), u, int(rand() * 8) } }' >"$tmp/q.txt"
w2v-query eval -n 60 "$tmp/a.bin" "$tmp/q.txt" >"$tmp/ours.tsv"

/usr/bin/python3 - "$tmp" <<'PY'
import sys, subprocess, numpy as np
from gensim.models import KeyedVectors, Word2Vec
tmp = sys.argv[1]
def check(name, ok, why=""):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))

# Our files, loaded by gensim.
kb = KeyedVectors.load_word2vec_format(tmp + "/a.bin", binary=True)
kt = KeyedVectors.load_word2vec_format(tmp + "/a.txt", binary=False)
with open(tmp + "/a.bin", "rb") as f:
    V, D = map(int, f.readline().split())
    raw = {}
    for _ in range(V):
        w = b""
        while True:
            ch = f.read(1)
            if ch == b" ": break
            if ch != b"\n": w += ch
        raw[w.decode()] = np.frombuffer(f.read(4 * D), dtype="<f4")
check("gensim-loads-binary", kb.index_to_key == list(raw) and
      all(np.array_equal(kb[w], raw[w]) for w in raw), "words or vectors differ")
err = max(float(np.max(np.abs(kt[w] - kb[w]) / (np.abs(kb[w]) + 1e-30))) for w in raw)
check("gensim-loads-text", kt.index_to_key == kb.index_to_key and err < 1e-5,
      "text and binary differ by %g (relative)" % err)

# gensim's files, read by w2v-query.
m = Word2Vec([l.split() for l in open(tmp + "/corpus.txt")], vector_size=24,
             min_count=1, epochs=2, workers=1, seed=3, sg=1)
m.wv.save_word2vec_format(tmp + "/g.bin", binary=True)
m.wv.save_word2vec_format(tmp + "/g.txt", binary=False)
for kind in ("bin", "txt"):
    ok = True
    for w in ("t0w0", "t5w3", "the"):
        ours = subprocess.run(["w2v-query", "near", "-k", "5", tmp + "/g." + kind, w],
                              capture_output=True, text=True).stdout.split("\n")
        ours = [l.split()[1] for l in ours if l]
        theirs = [x for x, _ in m.wv.most_similar(w, topn=5)]
        ok = ok and ours == theirs
    check("w2v-query-reads-gensim-" + kind, ok, "neighbours differ: %s vs %s" % (ours, theirs))

# The evaluators agree, section by section.
score, secs = kb.evaluate_word_analogies(tmp + "/q.txt", restrict_vocab=60)
ours = {}
for line in open(tmp + "/ours.tsv"):
    f = line.rstrip("\n").split("\t")
    if len(f) == 5 and f[0] != "section" and f[1] != "0":
        ours[f[0]] = (int(f[1]), round(float(f[3]) * int(f[1]) / 100))
ok = True
for s in secs:
    name = "total" if s["section"] == "Total accuracy" else s["section"]
    c, n = len(s["correct"]), len(s["correct"]) + len(s["incorrect"])
    if ours.get(name) != (n, c):
        ok = False
        print("    %s: gensim %d/%d, ours %s" % (name, c, n, ours.get(name)))
check("w2v-eval-agrees-with-gensim", ok and len(secs) == 3, "counts differ")
PY
