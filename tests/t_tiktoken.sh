# t_tiktoken.sh - tokenize against the npm tiktoken package (OpenAI's
# tokenizer, WASM build) on several MB of text: English prose, C source,
# CJK, emoji, runs of spaces and newlines, digits, mixed-script Unicode
# with marks and case classes.  Every encoding, whole-input and per-line.
# Also: invalid UTF-8 round-trips byte-exactly; split patterns of one's
# own (PCRE2) give tiktoken's ids for the same ranks and pattern, and a
# vocabulary trained with one loads in tiktoken.
# Needs ../shared/data/tiktoken and scripts/npm-peers (build/npm); skips
# without them.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PATH="$PWD/$BUILD/bin:$PATH"
D=../shared/data/tiktoken
NPM=$PWD/build/npm/node_modules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$D/cl100k_base.tiktoken" ]; then
	echo "SKIP tiktoken-peer: ../shared/data/tiktoken is absent"
	exit 0
fi

# Invalid UTF-8 never errors and never loses a byte (no peer needed).
# Seeded, so a failure can be reproduced.
LC_ALL=C awk 'BEGIN { srand(20261126); for (i = 0; i < 300000; i++) printf "%c", int(rand() * 256) }' >"$tmp/random.bin"
for enc in r50k_base cl100k_base o200k_base; do
	if tokenize encode -z -e $enc -d $D "$tmp/random.bin" |
		tokenize decode -z -e $enc -d $D | cmp -s - "$tmp/random.bin"; then
		echo "PASS invalid-utf8-round-trip $enc"
	else
		echo "FAIL invalid-utf8-round-trip $enc: decode(encode(x)) != x"
	fi
	if tokenize encode -e $enc -d $D "$tmp/random.bin" |
		tokenize decode -e $enc -d $D | cmp -s - <(cat "$tmp/random.bin"; [ -n "$(tail -c 1 "$tmp/random.bin")" ] && echo); then
		echo "PASS line-round-trip $enc"
	else
		echo "FAIL line-round-trip $enc: per-line decode(encode(x)) != x"
	fi
done

# Training twice gives the same bytes; binary streams round-trip.
cp ../shared/data/tinyshakespeare.txt "$tmp/shakespeare.txt"
tokenize train -q -n 2000 -p cl100k -S '<|endoftext|>' -o "$tmp/tr.tiktoken" "$tmp/shakespeare.txt"
tokenize train -q -n 2000 -p cl100k -S '<|endoftext|>' -o "$tmp/tr2.tiktoken" "$tmp/shakespeare.txt"
if cmp -s "$tmp/tr.tiktoken" "$tmp/tr2.tiktoken" && cmp -s "$tmp/tr.json" "$tmp/tr2.json"; then
	echo "PASS train-deterministic"
else
	echo "FAIL train-deterministic: two runs differ"
fi
if tokenize encode -b -e o200k_base -d $D "$tmp/shakespeare.txt" |
	tokenize decode -e o200k_base -d $D | cmp -s - "$tmp/shakespeare.txt"; then
	echo "PASS binary-round-trip"
else
	echo "FAIL binary-round-trip: encode -b | decode changed the text"
fi

if ! command -v node >/dev/null 2>&1 || [ ! -d "$NPM/tiktoken" ]; then
	echo "SKIP tiktoken-peer: node or the npm tiktoken package is missing (scripts/npm-peers)"
	exit 0
fi

cat >"$tmp/gen.js" <<'JS'
// Writes the test texts: deterministic pseudo-random Unicode mixes.
const fs = require('fs');
const dir = process.argv[2];
let s = 0x2545F491;
const rnd = (n) => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % n; };
const pick = (a) => a[rnd(a.length)];
const gen = (n, f) => { let o = []; let len = 0; while (len < n) { const t = f(); o.push(t); len += t.length; } return o.join(''); };
const cjk = () => String.fromCodePoint(pick([0x4E00 + rnd(0x5000), 0x3041 + rnd(0x55), 0x30A1 + rnd(0x59), 0xAC00 + rnd(0x2BA4), 0x3001, 0x3002, 0xFF01, 0xFF1F, 0x20]));
const emoji = () => pick(['\u{1F600}', '\u{1F44D}\u{1F3FD}', '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}', '\u{1F1EF}\u{1F1F5}', '\u2764\uFE0F', ' ', '\n', '!', 'ok', '\u{1F34F}\u{1F34E}']);
const spaces = () => pick([' ', '  ', '\t', '\n', '\r\n', ' '.repeat(rnd(40)), '\n'.repeat(rnd(9)), '\u00A0', '\u3000', '\u2003', 'word', 'Word', '12', '!', ' \n ', '\u0085', '\u2028', '\x0b']);
const digits = () => pick([String(rnd(1e9)), ' ', ',', '.', '-', String(rnd(100)) + '%', '\u0663\u0664\u0665', '\u00BD', '\u2167', ' 1,234,567.89 ']);
const mixed = () => pick(['\u0301', 'e\u0301', '\u01C5', '\u01C6', '\u02B0', '\u05D0\u05D1', '\u0627\u0644', '\u0915\u093F', 'ABC', 'Abc', 'aBC', "'s", "'S", "'LL", "'ve", "\u017F", "'\u017F", ' ', '  ', '\n', '.', '//', '/', '\u0391\u03B2', '\u00DF', 'I\u0307', 'x\u20DD', '\u{1D400}', '\u2160', '_', '\u00AD', String.fromCodePoint(0x20 + rnd(0x2FF)), String.fromCodePoint(rnd(0x30000)).replace(/[\uD800-\uDFFF]/g, '')]);
const ascii = () => String.fromCharCode(pick([9, 10, 13, 32, 32, 32, 33 + rnd(94), 33 + rnd(94)]));
fs.writeFileSync(dir + '/cjk.txt', gen(400000, cjk));
fs.writeFileSync(dir + '/emoji.txt', gen(200000, emoji));
fs.writeFileSync(dir + '/spaces.txt', gen(300000, spaces));
fs.writeFileSync(dir + '/digits.txt', gen(200000, digits));
fs.writeFileSync(dir + '/mixed.txt', gen(400000, mixed));
fs.writeFileSync(dir + '/ascii.txt', gen(300000, ascii));
JS
cat >"$tmp/peer.js" <<'JS'
// node peer.js ENCODING MODE FILE...: ids per file (MODE whole) or per line.
const { get_encoding } = require(process.env.NPM + '/tiktoken');
const fs = require('fs');
const enc = get_encoding(process.argv[2]);
const out = [];
for (const f of process.argv.slice(4)) {
	const text = fs.readFileSync(f, 'utf8');
	if (process.argv[3] === 'whole') {
		out.push(Array.from(enc.encode_ordinary(text)).join(' '));
	} else {
		const lines = text.split('\n');
		if (lines[lines.length - 1] === '') lines.pop();
		for (const l of lines) out.push(Array.from(enc.encode_ordinary(l)).join(' '));
	}
}
fs.writeFileSync(1, out.join('\n') + '\n');
enc.free();
JS
node "$tmp/gen.js" "$tmp" || { echo "FAIL tiktoken-peer: generator failed"; exit 0; }
head -c 2000000 ../shared/data/sotu.txt >"$tmp/sotu.txt"
cat lib/*/*.c lib/*/*.h cmd/*/*.c >"$tmp/code.txt"
files="sotu shakespeare code cjk emoji spaces digits mixed ascii"
total=0
for f in $files; do total=$((total + $(wc -c <"$tmp/$f.txt"))); done
echo "# comparing $total bytes per encoding"
export NPM
for enc in r50k_base cl100k_base o200k_base; do
	for f in $files; do
		node "$tmp/peer.js" $enc whole "$tmp/$f.txt" >"$tmp/want" 2>"$tmp/err" ||
			{ echo "FAIL tiktoken-peer $enc $f: node failed: $(head -c 200 "$tmp/err")"; continue; }
		tokenize encode -z -e $enc -d $D "$tmp/$f.txt" >"$tmp/got"
		if cmp -s "$tmp/want" "$tmp/got"; then
			echo "PASS tiktoken-peer $enc $f"
		else
			echo "FAIL tiktoken-peer $enc $f: ids differ: $(cmp "$tmp/want" "$tmp/got" | head -n 1)"
		fi
	done
	# Per line, and with two threads (the output must not change).
	cat "$tmp/mixed.txt" "$tmp/sotu.txt" >"$tmp/lines.txt"
	node "$tmp/peer.js" $enc lines "$tmp/lines.txt" >"$tmp/want"
	tokenize encode -j 2 -e $enc -d $D <"$tmp/lines.txt" >"$tmp/got"
	if cmp -s "$tmp/want" "$tmp/got"; then
		echo "PASS tiktoken-peer-lines $enc"
	else
		echo "FAIL tiktoken-peer-lines $enc: $(cmp "$tmp/want" "$tmp/got" | head -n 1)"
	fi
	tokenize encode -z -j 2 -e $enc -d $D "$tmp/sotu.txt" >"$tmp/got2"
	tokenize encode -z -e $enc -d $D "$tmp/sotu.txt" >"$tmp/got1"
	if cmp -s "$tmp/got1" "$tmp/got2"; then
		echo "PASS threads-whole $enc"
	else
		echo "FAIL threads-whole $enc: -j 2 -z differs from -j 1"
	fi
done


# A vocabulary from `tokenize train` loads in tiktoken itself and encodes
# the same.
cat >"$tmp/load.js" <<'JS'
const { Tiktoken } = require(process.env.NPM + '/tiktoken');
const fs = require('fs');
const meta = JSON.parse(fs.readFileSync(process.argv[3]));
const enc = new Tiktoken(fs.readFileSync(process.argv[2], 'utf8'), meta.special_tokens, meta.pat_str);
const lines = fs.readFileSync(process.argv[4], 'utf8').split('\n');
if (lines[lines.length - 1] === '') lines.pop();
fs.writeFileSync(1, lines.map(l => Array.from(enc.encode_ordinary(l)).join(' ')).join('\n') + '\n');
JS
node "$tmp/load.js" "$tmp/tr.tiktoken" "$tmp/tr.json" "$tmp/sotu.txt" >"$tmp/want" 2>"$tmp/err"
tokenize encode -v "$tmp/tr.tiktoken" "$tmp/sotu.txt" >"$tmp/got"
if [ -s "$tmp/want" ] && cmp -s "$tmp/want" "$tmp/got"; then
	echo "PASS trained-vocab-in-tiktoken"
else
	echo "FAIL trained-vocab-in-tiktoken: $(head -c 200 "$tmp/err") $(cmp "$tmp/want" "$tmp/got" | head -n 1)"
fi

# Split patterns of one's own go through PCRE2: the same ids as npm
# tiktoken given the same ranks and pattern, whole text, on every test
# text.  One simple pattern, and cl100k's with \p{N}{1,2} (look-ahead,
# case-insensitive contractions; not a built-in, so not the fast path).
cat >"$tmp/custom.js" <<'JS'
const { Tiktoken } = require(process.env.NPM + '/tiktoken');
const fs = require('fs');
const enc = new Tiktoken(fs.readFileSync(process.argv[2], 'utf8'), {}, process.argv[3]);
const out = [];
for (const f of process.argv.slice(4))
	out.push(Array.from(enc.encode_ordinary(fs.readFileSync(f, 'utf8'))).join(' '));
fs.writeFileSync(1, out.join('\n') + '\n');
enc.free();
JS
pat_simple='\p{L}+|\p{N}|[^\s\p{L}\p{N}]+|\s+'
pat_cl100k12="(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,2}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
for name in simple cl100k12; do
	eval "pat=\$pat_$name"
	paths=
	for f in $files; do paths="$paths $tmp/$f.txt"; done
	# shellcheck disable=SC2086
	node "$tmp/custom.js" $D/cl100k_base.tiktoken "$pat" $paths >"$tmp/want" 2>"$tmp/err" ||
		{ echo "FAIL regex-peer $name: node failed: $(head -c 200 "$tmp/err")"; continue; }
	for f in $files; do
		tokenize encode -z -j 2 -e cl100k_base -d $D --regex "$pat" "$tmp/$f.txt"
	done >"$tmp/got"
	if cmp -s "$tmp/want" "$tmp/got"; then
		echo "PASS regex-peer $name"
	else
		echo "FAIL regex-peer $name: ids differ: $(cmp "$tmp/want" "$tmp/got" | head -n 1)"
	fi
done

# A vocabulary trained with a pattern of one's own records it as pat_str;
# tiktoken loads it and encodes the same.
tokenize train -q -n 1500 --regex "$pat_cl100k12" -o "$tmp/tr3.tiktoken" "$tmp/shakespeare.txt"
node "$tmp/load.js" "$tmp/tr3.tiktoken" "$tmp/tr3.json" "$tmp/sotu.txt" >"$tmp/want" 2>"$tmp/err"
tokenize encode -v "$tmp/tr3.tiktoken" "$tmp/sotu.txt" >"$tmp/got"
if [ -s "$tmp/want" ] && cmp -s "$tmp/want" "$tmp/got" && grep -q 'N}{1,2}' "$tmp/tr3.json"; then
	echo "PASS regex-trained-vocab-in-tiktoken"
else
	echo "FAIL regex-trained-vocab-in-tiktoken: $(head -c 200 "$tmp/err") $(cmp "$tmp/want" "$tmp/got" | head -n 1)"
fi
