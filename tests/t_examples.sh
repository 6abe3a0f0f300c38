# t_examples.sh - every EXAMPLES block of every man page runs.
#
# From each man/*.[15], the EXAMPLES section's .Dl lines and .Bd -literal
# blocks: a line "$ cmd" is a command, the indented lines after it continue
# it, other lines are the output shown (not compared: it depends on the
# data).  Each block is one example, named PAGE:LINE; its commands run in
# order with bash -o pipefail in a scratch directory per page (a later
# block may use an earlier one's files), build/bin first on PATH, with the
# input files the page names made here or taken from ../shared/data.
# PASS when every command exits 0; FAIL shows the command, its exit status
# and stderr; SKIP, with the reason, when a command needs a peer or data
# that is missing, or the network.
# NK_EXAMPLES_PAGES="man/detect.1 ..." runs only those pages.
#
# Training runs are shortened so that the suite stays fast: rnn-train train
# gets 1/250 of its steps (4 for the default 1000) and batches of 4 unless
# the example sets -b; the options are otherwise the example's own, so an
# option or a subcommand that does not exist still fails.
cd "$(dirname "$0")/.." || exit 1
root=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) bin=$BUILD/bin ;; *) bin=$root/$BUILD/bin ;; esac
data=$root/../shared/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Pages that name ../shared/data (as the project's own checkout sees it)
# find it from their scratch directories, $tmp/PAGE.
[ -d "$root/../shared" ] && ln -s "$root/../shared" "$tmp/shared"

# The shims: Debian's python3 (its python3-* packages), and rnn-train with
# fewer steps.
mkdir -p "$tmp/shim"
[ -x /usr/bin/python3 ] && ln -s /usr/bin/python3 "$tmp/shim/python3"
cat >"$tmp/shim/rnn-train" <<EOF
#!/usr/bin/env bash
[ "\${1:-}" = train ] || exec "$bin/rnn-train" "\$@"
args=() steps=0 batch=0 prev=
for a in "\$@"; do
	case \$prev in -n | --steps) a=\$(( (a + 249) / 250 )); steps=1 ;; esac
	case \$a in -b | --batch) batch=1 ;; esac
	args+=("\$a"); prev=\$a
done
[ \$steps = 1 ] || args+=(-n 4)
[ \$batch = 1 ] || args+=(-b 4)
exec "$bin/rnn-train" "\${args[@]}"
EOF
chmod +x "$tmp/shim/rnn-train"
export PATH="$tmp/shim:$bin:$PATH"
export NNKIT_TIKTOKEN_DIR="$data/tiktoken"
# On a shared, loaded machine OpenMP's spinning threads wait for each other
# for tens of seconds; sleeping ones do not.
export OMP_WAIT_POLICY=passive

# extract PAGE: "LINE<TAB>COMMAND" records (newlines in a command as \x01),
# a record "LINE<TAB>" between blocks.
extract() {
	awk '
	function unesc(s) {
		gsub(/\\\(aq/, "\047", s); gsub(/\\\(dq/, "\"", s)
		gsub(/\\-/, "-", s); gsub(/\\&/, "", s); gsub(/\\e/, "\\", s)
		return s
	}
	function flush() { if (cmd != "") print start "\t" cmd; cmd = "" }
	/^\.Sh / { flush(); ex = ($0 == ".Sh EXAMPLES"); next }
	!ex { next }
	/^\.Dl \$ / { flush(); print NR "\t"; print NR "\t" unesc(substr($0, 7)); print NR "\t"; next }
	/^\.Bd -literal/ { flush(); lit = 1; print NR "\t"; next }
	/^\.Ed/ { flush(); lit = 0; next }
	!lit { next }
	/^\$ / { flush(); start = NR; cmd = unesc(substr($0, 3)); next }
	/^[ \t]/ && cmd != "" { cmd = cmd "\001" unesc($0); next }
	{ flush() }
	END { flush() }' "$1"
}

# Why a block cannot run here at all (checked before any of it runs), or
# nothing.
why_skip_block() {
	case $1 in
	*curl* | *"npm install"*) echo "needs the network" ;;
	esac
}

# Why one command cannot run here (a missing peer or data), or nothing: the
# block's other commands still run.
why_skip() {
	case $1 in
	*" -e "* | *--encoding* | *"tokenize encode"*" -b"* | *"tokenize encode -b"*)
		[ -f "$data/tiktoken/cl100k_base.tiktoken" ] ||
			{ echo "../shared/data/tiktoken is absent"; return; } ;;
	esac
	case $1 in
	*../shared/data*) [ -d "$data" ] ||
		{ echo "../shared/data is absent"; return; } ;;
	esac
	case $1 in
	*/usr/share/darknet*) [ -f /usr/share/darknet/cfg/yolov3-tiny.cfg ] ||
		{ echo "Debian's darknet (its cfgs and photographs) is not installed"; return; } ;;
	esac
	case $1 in
	*darknet-weights*) /usr/bin/python3 -c 'import numpy' 2>/dev/null ||
		{ echo "Debian's python3-numpy is not installed"; return; } ;;
	esac
	case $1 in
	*plot-log*) command -v gnuplot >/dev/null 2>&1 ||
		{ echo "gnuplot is not installed (scripts/deps installs gnuplot-nox)"; return; } ;;
	*python3*) /usr/bin/python3 -c 'import numpy' 2>/dev/null ||
		{ echo "Debian's python3-numpy is not installed"; return; } ;;
	esac
}

# The files the pages name, made small: the examples show that the
# commands run, not how long they take on a whole corpus.
text_sample() { # BYTES: English text, from ../shared/data or the man pages
	if [ -f "$data/sotu.txt" ]; then
		head -c "$1" "$data/sotu.txt"
	else
		for i in 1 2 3 4 5 6 7 8; do cat "$root"/man/*; done | head -c "$1"
	fi
}

prepare() { # PAGE DIR
	local d=$2
	cd "$d" || return 1
	ln -s "$root/scripts" scripts
	case $1 in
	bert-mask.1)
		# A third of a megabyte of speeches: the examples train for
		# seconds, not for quality.
		text_sample 300000 >sotu.txt
		tail -c 30000 sotu.txt >speech.txt ;;
	nnkit-mlm.5)
		text_sample 200000 >corpus.txt ;;
	detect.1)
		# Its eval examples score the test suite's small files.
		ln -s "$root/tests" tests ;;
	lcs-seq.1)
		printf '3 4 5 9\n1 2\n7 100 8 6\n' | gzip >ids.txt.gz
		printf 'a,b,5\nc,d,7\ne,f,6\n' >data.csv ;;
	minwindow.1)
		printf 'silent\ntinsel\napple\nlistening\n' >words.txt
		printf 'whale' >pattern.txt
		text_sample 200000 | gzip >book.txt.gz
		printf 'ACGTGGACCA\nGGGG\nCAGCTGACG\n' >reads.txt ;;
	nnkit-tokens.5 | rnn-train.1 | tokenize.1 | w2v-train.1 | w2v-query.1)
		# The pages that train token models get a corpus of digits and
		# punctuation: its cl100k ids stay below 256, so the model's
		# vocabulary (largest id + 1) is small and trains in seconds.
		if [ "$1" = w2v-train.1 ]; then
			text_sample 300000 >corpus.txt
		else
			awk 'BEGIN { srand(3); for (i = 0; i < 20000; i++)
				printf "%d%s", int(rand() * 10), (i % 20 == 19) ? ".\n" : ", " }' >corpus.txt
		fi
		gzip -c corpus.txt >corpus.txt.gz
		text_sample 1000000 >sotu.txt
		text_sample 100000 >tinyshakespeare.txt
		[ -f "$data/tinyshakespeare.txt" ] && head -c 100000 "$data/tinyshakespeare.txt" >tinyshakespeare.txt
		tail -c 10000 tinyshakespeare.txt >test.txt
		cp tinyshakespeare.txt text.txt
		text_sample 5000 >file
		tail -c 50000 sotu.txt >speech.txt
		gzip -c corpus.txt >1990s.txt.gz
		text_sample 600000 | tail -c 300000 | gzip >2000s.txt.gz
		cp corpus.txt c.txt
		if [ -f "$data/tiktoken/cl100k_base.tiktoken" ]; then
			cp "$data/tiktoken/cl100k_base.tiktoken" .
			tokenize encode -b corpus.txt >corpus.tok 2>/dev/null
			tokenize encode corpus.txt >corpus.ids 2>/dev/null
		fi
		if [ -f "$data/questions-words.txt" ]; then
			cp "$data/questions-words.txt" .
		else
			printf ': capital\nathens greece paris france\n' >questions-words.txt
		fi
		if [ "$1" = w2v-query.1 ]; then
			# The later speeches: 'woman' is rare before the 20th century.
			if [ -f "$data/sotu.txt" ]; then tail -c 1000000 "$data/sotu.txt" >sotu.txt; fi
			tr -c 'A-Za-z\n' ' ' <sotu.txt | tr A-Z a-z >sotu.low
			w2v-train -q -j 2 -b -o sotu.bin sotu.low
			cp sotu.bin ours.bin
			cp sotu.bin gensim.bin
			printf 'war\tpeace\t5.5\nman\twoman\t8.3\nking\tqueen\t8.6\n' >wordsim353.tsv
		fi ;;
	nnkit-wfile.5)
		for i in $(seq 200); do printf 'a tiny text to train on, again and again. '; done >t.txt
		rnn-train train -q -n 2 -b 2 -T 8 -H 16 -E 8 -l 1 -o model.nkw t.txt
		mkdir ckpt
		cp model.nkw ckpt/epoch-1.nkw ;;
	pyramid.1)
		LC_ALL=C awk 'BEGIN { w = 257; h = 171; printf "P5\n%d %d\n255\n", w, h;
			for (y = 0; y < h; y++) for (x = 0; x < w; x++)
				printf "%c", (int(x / 16) + int(y / 16)) % 2 ? 1 + int(254 * x / w) : 1 + int(254 * y / h) }' >card.pgm
		pyramid -q -n 1 -o in-%d.png card.pgm && mv in-0.png in.png
		cp in.png group.png
		photo=$(ls "$data"/bccd/JPEGImages/*.jpg 2>/dev/null | head -n 1)
		if [ -f /usr/share/darknet/data/dog.jpg ]; then
			cp /usr/share/darknet/data/dog.jpg dog.jpg
		elif [ -n "$photo" ]; then
			cp "$photo" dog.jpg
		fi
		if [ -n "$photo" ]; then cp "$photo" in.jpg; else cp in.png in.jpg; fi
		[ -f dog.jpg ] || cp in.jpg dog.jpg ;;
	esac
	cd "$root" || return 1
}

# Runs one block: BLOCK_NAME, BLOCK_CMDS (an array) in DIR.  Skips the
# whole block, before running any of it, when one command cannot run here.
run_block() { # DIR
	local c skip= why rc t0=$SECONDS
	[ ${#BLOCK_CMDS[@]} -eq 0 ] && return
	for c in "${BLOCK_CMDS[@]}"; do
		why=$(why_skip_block "$c")
		if [ -n "$why" ]; then
			echo "SKIP example $BLOCK_NAME: $why (\$ $(printf '%s' "$c" | head -n 1))"
			return
		fi
	done
	for c in "${BLOCK_CMDS[@]}"; do
		why=$(why_skip "$c")
		if [ -n "$why" ]; then
			[ -z "$skip" ] && skip="$why (\$ $(printf '%s' "$c" | head -n 1))"
			continue
		fi
		(cd "$1" && timeout 300 bash -o pipefail -c "$c") </dev/null >"$tmp/out" 2>"$tmp/err"
		rc=$?
		# 141: a reader such as head stopped early and the writer got SIGPIPE,
		# which an interactive shell (no pipefail) does not report.
		if [ $rc -ne 0 ] && [ $rc -ne 141 ]; then
			echo "FAIL example $BLOCK_NAME: \$ $(printf '%s' "$c" | tr '\n' ' ') -> exit $rc: $(head -n 3 "$tmp/err" | tr '\n' ' ')"
			return
		fi
	done
	if [ -n "$skip" ]; then
		echo "SKIP example $BLOCK_NAME: $skip"
	else
		echo "PASS example $BLOCK_NAME ($((SECONDS - t0)) s)"
	fi
}

for m in ${NK_EXAMPLES_PAGES:-man/*.1 man/*.5}; do
	[ -e "$m" ] || continue
	page=$(basename "$m")
	d=$tmp/$page
	mkdir -p "$d"
	if ! (prepare "$page" "$d") >"$tmp/prep.err" 2>&1; then
		echo "FAIL example $page: preparing its files: $(tail -n 3 "$tmp/prep.err" | tr '\n' ' ')"
		continue
	fi
	BLOCK_NAME= BLOCK_CMDS=()
	while IFS=$'\t' read -r line cmd; do
		if [ -z "$cmd" ]; then # a block ends
			run_block "$d"
			BLOCK_NAME= BLOCK_CMDS=()
			continue
		fi
		[ -z "$BLOCK_NAME" ] && BLOCK_NAME=$page:$line
		BLOCK_CMDS+=("${cmd//$'\001'/$'\n'}")
	done < <(extract "$m")
	run_block "$d"
done
exit 0
