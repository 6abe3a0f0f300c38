# t_wordpiece_hf.sh - WordPiece (lib/text/wordpiece.c) against the
# BertTokenizer of npm's @huggingface/transformers, given the same
# vocabulary as a tokenizer.json (BertNormalizer, BertPreTokenizer,
# WordPiece model and decoder, the five special tokens as added tokens):
# ids per line equal, lower-cased and cased, on the State of the Union
# addresses and Shakespeare line by line, and on generated CJK, accented
# text, punctuation runs, long words, special tokens in the text, and
# blank or control-only lines; decoding our ids gives the peer's text.
# The vocabularies are learned by our trainer (8000 tokens lower-cased
# and cased, and 400 for many [UNK]s and short pieces).
# The generated texts leave out the two places where the npm port
# differs from HF's Rust and Python tokenizers (wordpiece.h): CJK beyond
# U+FFFF and a capital sigma at a word's end.
# Needs ../shared/data, node and scripts/npm-peers (build/npm); skips
# without them.  The C side is $BUILD/tests/test_wordpiece's driver.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
T=$PWD/$BUILD/tests/test_wordpiece
D=../shared/data
NPM=$PWD/build/npm/node_modules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$T" ]; then
	echo "FAIL wordpiece-hf: $T is not built"
	exit 0
fi
if [ ! -f "$D/sotu.txt" ] || [ ! -f "$D/tinyshakespeare.txt" ]; then
	echo "SKIP wordpiece-hf: ../shared/data is absent"
	exit 0
fi

# The trainer: deterministic, and its time for 8000 tokens on sotu.
"$T" train 8000 0 1 "$D/sotu.txt" "$tmp/sotu1.txt" 2>"$tmp/time1"
"$T" train 8000 0 1 "$D/sotu.txt" "$tmp/sotu2.txt" 2>/dev/null
if [ "$(wc -l <"$tmp/sotu1.txt")" -eq 8000 ] && cmp -s "$tmp/sotu1.txt" "$tmp/sotu2.txt"; then
	echo "PASS wordpiece-train-deterministic: 8000 tokens from sotu.txt, $(cat "$tmp/time1")"
else
	echo "FAIL wordpiece-train-deterministic: two runs differ or the size is wrong"
fi

if ! command -v node >/dev/null 2>&1 || [ ! -d "$NPM/@huggingface/transformers" ]; then
	echo "SKIP wordpiece-hf: node or npm's @huggingface/transformers is missing (scripts/npm-peers)"
	exit 0
fi

cat >"$tmp/gen.js" <<'JS'
// Writes the generated test texts, one case a line; seeded.
const fs = require('fs');
const dir = process.argv[2];
let s = 0x1D872B41;
const rnd = (n) => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % n; };
const pick = (a) => a[rnd(a.length)];
const cp = (c) => String.fromCodePoint(c);
const lines = (n, f) => { const o = []; for (let i = 0; i < n; i++) o.push(f()); return o.join('\n') + '\n'; };
const join = (n, f) => { let o = ''; for (let i = 0; i < n; i++) o += f(); return o; };
// CJK: ideographs (unified, extension A, compatibility), kana, Hangul,
// CJK and fullwidth punctuation, fullwidth letters, ASCII between.
const cjk = () => pick([
	() => cp(0x4E00 + rnd(0x51E0)), () => cp(0x4E00 + rnd(0x200)), () => cp(0x3400 + rnd(0x19B0)),
	() => cp(0xF900 + rnd(0x16E)), () => cp(0x3041 + rnd(0x56)), () => cp(0x30A1 + rnd(0x5A)),
	() => cp(0xAC00 + rnd(0x2BA4)), () => pick(['\u3001', '\u3002', '\u300C', '\u300D', '\uFF01', '\uFF1F', '\uFF0C', '\u30FB', '\u3000']),
	() => cp(0xFF21 + rnd(26)), () => ' ', () => pick(['Tokyo', 'abc', '2024', '\u5e74']),
])();
fs.writeFileSync(dir + '/cjk.txt', lines(2000, () => join(1 + rnd(60), cjk)));
// Accented and other-script words, precomposed and decomposed, upper
// and lower case (no capital sigma: see above).
const letters = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
	...'\u00e0\u00e1\u00e2\u00e3\u00e4\u00e5\u00e6\u00e7\u00e8\u00e9\u00ea\u00eb\u00ec\u00ed\u00ee\u00ef\u00f1\u00f2\u00f3\u00f4\u00f5\u00f6\u00f8\u00f9\u00fa\u00fb\u00fc\u00fd\u00ff',
	...'\u00c0\u00c1\u00c2\u00c3\u00c4\u00c5\u00c6\u00c7\u00c8\u00c9\u00ca\u00cb\u00cc\u00cd\u00ce\u00cf\u00d1\u00d2\u00d3\u00d4\u00d5\u00d6\u00d8\u00d9\u00da\u00db\u00dc\u00dd',
	...'\u00df\u0152\u0153\u0141\u0142\u015e\u015f\u0130\u0131\u011e\u011f\u1ec7\u1edf\u1eef\u01c5\u01c6\u1e9e',
	...'\u03b1\u03b2\u03b3\u03b4\u03c3\u03c2\u03ac\u03ad\u03ae\u03af\u03ca\u0390\u0386\u0388\u0391\u0392\u0394',
	...'\u0430\u0431\u0432\u0451\u0439\u044f\u0410\u0411\u0401\u0419\u042f',
	'\u0628\u064e', '\u05d0\u05b8', '\u0915\u093f', '\u0e01\u0e34', 'e\u0301', 'E\u0300', 'o\u0308', 'a\u030a\u0323', 'n\u0303',
	'\u1fef', '\u037e', '\u212b', '\u2126', 'x\u20dd', '\u0345'];
const word = () => join(1 + rnd(12), () => pick(letters));
fs.writeFileSync(dir + '/accents.txt', lines(3000, () => join(1 + rnd(15), () => word() + pick([' ', ' ', ' ', ', ', '. ', '-', "'"]))));
// Punctuation runs, with symbols (S*, not punctuation unless ASCII) between.
const puncts = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
	...'\u00ab\u00bb\u201c\u201d\u2018\u2019\u201e\u2039\u203a\u2014\u2013\u2026\u00b7\u2022\u00a1\u00bf\u00a7\u00b6\u2020\u2021\u203b\u203c\u2047\u2048',
	...'\u3001\u3002\u300c\u300d\u300e\u300f\u3010\u3011\uff01\uff1f\uff0c\uff0e\uff1b\uff1a\uff08\uff09\uff5b\uff5d\uff20\uff03\uff04\uff05\uff06\uff0a\uff0b\uff0d\uff0f\uff1d\uff1c\uff1e\uff3e\uff3f\uff40\uff5c\uff5e',
	...'\u00a9\u00ae\u2122\u00b0\u00b1\u00d7\u00f7\u20ac\u00a3\u00a5\u00a2\u221e\u2260\u2264\u2265\u221a\u2211', '\u{1F600}', '\u{1F44D}'];
const prun = () => pick([() => join(1 + rnd(8), () => pick(puncts)), () => pick(['!!!', '???', '...', '---', '***', '?!?!', '"\'"', '([{}])']).repeat(1 + rnd(4)), () => word(), () => ' ', () => String(rnd(1000))])();
fs.writeFileSync(dir + '/punct.txt', lines(2000, () => join(1 + rnd(20), prun)));
// Long words around the 100-character limit, in one- and two-byte
// letters, decomposed accents (100 characters after stripping, 200
// before), and long words broken by punctuation.
const longw = () => {
	const n = 90 + rnd(21);
	return pick([
		() => 'a'.repeat(n), () => join(n, () => pick([...'abcdefghij'])), () => '\u00e9'.repeat(n),
		() => join(n, () => pick(['a', '\u00e9', '\u00df', '\u0142'])), () => 'e\u0301'.repeat(n >> 1) + 'x'.repeat(n & 1),
		() => join(n, () => pick([...'abc'])) + '.' + 'b'.repeat(n), () => 'the'.repeat(33) + pick(['', 'x', 'xy']),
		() => 'A'.repeat(n), () => '\u0430'.repeat(n),
	])();
};
fs.writeFileSync(dir + '/long.txt', lines(1000, () => join(1 + rnd(4), () => longw() + ' ')));
// Special tokens in the text, and their near misses.
const sp = () => pick(['[MASK]', '[MASK]', '[CLS]', '[SEP]', '[PAD]', '[UNK]', '[mask]', '[Mask]', '[MASK', 'MASK]', '[[MASK]]', ' ', ' ', 'the', 'fill', 'x', '.', 'Caf\u00e9']);
fs.writeFileSync(dir + '/specials.txt', lines(1000, () => join(1 + rnd(12), () => sp() + pick(['', ' ']))));
// Blank, whitespace-only and control-only lines, and controls inside words.
const blank = () => pick(['', ' ', '  ', '\t', '\r', '\u3000', '\u00a0', '\u2028', '\u2029', '\u0000', '\u0001\u0002', '\ufeff', '\u200b',
	'\ufffd', '\u0085', '\u000b\u000c', '\u00ad', 'fo\u0000x', 'a\u200bb', 'x\u0007y', '\ue000', 'word',
	'a\u0378b', '\uffff', '\u{F0000}', '\u{E0001}']);
fs.writeFileSync(dir + '/blank.txt', lines(1000, () => join(rnd(4), blank)));
JS
cat >"$tmp/peer.js" <<'JS'
// node peer.js VOCAB LOWER DIR TEXT...: for each TEXT, encodes DIR/TEXT.txt
// line by line and compares with our ids (DIR/TEXT.ids), and decodes our
// ids and compares with our text (DIR/TEXT.dec).  Prints per text:
// TEXT LINES ENCODE-MISMATCHES DECODE-MISMATCHES [first mismatch].
const fs = require('fs');
const { BertTokenizer } = require(process.env.NPM + '/@huggingface/transformers');
const [vocabPath, lower, dir, ...texts] = process.argv.slice(2);
const readLines = (f) => {
	const l = fs.readFileSync(f, 'utf8').split('\n');
	if (l[l.length - 1] === '') l.pop();
	return l;
};
const vocab = {};
readLines(vocabPath).forEach((t, i) => { vocab[t] = i; });
const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((t) => t in vocab);
const json = {
	version: '1.0', truncation: null, padding: null,
	added_tokens: specials.map((t) => ({ id: vocab[t], content: t, single_word: false, lstrip: false,
		rstrip: false, normalized: false, special: true })),
	normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true,
		strip_accents: null, lowercase: lower === '1' },
	pre_tokenizer: { type: 'BertPreTokenizer' },
	post_processor: null,
	decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
	model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##',
		max_input_chars_per_word: 100, vocab },
};
const config = { tokenizer_class: 'BertTokenizer', do_lower_case: lower === '1',
	clean_up_tokenization_spaces: true, unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]',
	cls_token: '[CLS]', mask_token: '[MASK]' };
const tok = new BertTokenizer(json, config);
const cut = (x) => JSON.stringify(x.length > 100 ? x.slice(0, 100) + '...' : x);
for (const t of texts) {
	const lines = readLines(`${dir}/${t}.txt`), ids = readLines(`${dir}/${t}.ids`);
	const dec = readLines(`${dir}/${t}.dec`);
	let bad = 0, dbad = 0, first = '';
	lines.forEach((l, i) => {
		const want = tok.encode(l, { add_special_tokens: false }).join(' ');
		if (want !== ids[i]) {
			if (!bad++) first = `line ${i + 1} ${cut(l)}: peer ${cut(want)}, ours ${cut(ids[i] ?? '(none)')}`;
		}
		const ours = (ids[i] ?? '').split(' ').filter((x) => x !== '').map(Number);
		const dwant = ours.length ? tok.decode(ours) : '';
		if (dwant !== dec[i]) {
			if (!dbad++ && !first) first = `line ${i + 1}: peer decodes ${cut(dwant)}, we ${cut(dec[i] ?? '(none)')}`;
		}
	});
	if (ids.length !== lines.length) bad = lines.length;
	console.log(`${t} ${lines.length} ${bad} ${dbad} ${first}`);
}
JS
export NPM
node "$tmp/gen.js" "$tmp" || { echo "FAIL wordpiece-hf: the generator failed"; exit 0; }
# Prose: the first 2 MB of addresses (one a line) and Shakespeare.
head -c 2000000 "$D/sotu.txt" | head -n -1 >"$tmp/sotu.txt"
cp "$D/tinyshakespeare.txt" "$tmp/shakespeare.txt"
texts="sotu shakespeare cjk accents punct long specials blank"
for f in $texts; do cat "$tmp/$f.txt"; done >"$tmp/all.txt"
# The generated texts bring over 10000 characters, each a token: 20000
# leaves room for merges.
"$T" train 20000 0 1 "$tmp/all.txt" "$tmp/lower.txt" 2>/dev/null
"$T" train 20000 0 0 "$tmp/all.txt" "$tmp/cased.txt" 2>/dev/null
"$T" train 400 2 1 "$D/tinyshakespeare.txt" "$tmp/small.txt" 2>/dev/null

for cfg in lower:1 cased:0 small:1; do
	v=${cfg%:*} lower=${cfg#*:}
	for f in $texts; do
		"$T" encode "$tmp/$v.txt" "$lower" -1 "$tmp/$f.txt" >"$tmp/$f.ids" &&
			"$T" decode "$tmp/$v.txt" <"$tmp/$f.ids" >"$tmp/$f.dec" ||
			echo "FAIL wordpiece-hf $v $f: our encode or decode failed"
	done
	# shellcheck disable=SC2086
	node "$tmp/peer.js" "$tmp/$v.txt" "$lower" "$tmp" $texts >"$tmp/res" 2>"$tmp/err" ||
		{ echo "FAIL wordpiece-hf $v: node failed: $(head -c 300 "$tmp/err")"; continue; }
	read -r n bad dbad <<EOT
$(awk '{ n += $2; b += $3; d += $4 } END { print n + 0, b + 0, d + 0 }' "$tmp/res")
EOT
	where=$(awk '$3 || $4 { printf " %s:%d/%d", $1, $3, $4 }' "$tmp/res")
	first=$(awk '$3 || $4 { $2 = $3 = $4 = ""; print; exit }' "$tmp/res")
	if [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]; then
		echo "PASS wordpiece-hf-encode $v: $n lines ($texts), ids equal"
	else
		echo "FAIL wordpiece-hf-encode $v: $bad of $n lines differ (text:encode/decode$where); $first"
	fi
	if [ "$n" -gt 0 ] && [ "$dbad" -eq 0 ]; then
		echo "PASS wordpiece-hf-decode $v: $n lines, text equal"
	else
		echo "FAIL wordpiece-hf-decode $v: $dbad of $n lines differ (text:encode/decode$where); $first"
	fi
done
