# t_deps.sh - what scripts/deps installs for whom: `make demo` only the
# build's packages, `make test` the peers as well; a failed install is a
# non-zero exit.  Installs nothing: --list, make -n, and a fake apt-get.
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peers="python3-torch python3-opencv python3-gensim darknet nodejs npm npm:tiktoken"
build="gcc make zlib1g-dev libstb-dev libutf8proc-dev libpcre2-dev"

has_all() { # has_all FILE PKG...: every PKG is a line of FILE
	f=$1; shift
	for p in "$@"; do grep -qx -- "$p" "$f" || { echo "$p"; return 1; }; done
}

if sh scripts/deps --list build >"$tmp/build" 2>"$tmp/err"; then
	extra=$(for p in $peers; do grep -x -- "$p" "$tmp/build"; done | tr '\n' ' ')
	if [ -n "$extra" ]; then
		echo "FAIL deps-build-no-peers: the build group names $extra"
	else
		echo "PASS deps-build-no-peers"
	fi
	if lack=$(has_all "$tmp/build" $build); then
		echo "PASS deps-build-has-build"
	else
		echo "FAIL deps-build-has-build: the build group lacks $lack"
	fi
else
	echo "FAIL deps-build-no-peers: scripts/deps --list build: $(head -c 200 "$tmp/err")"
fi

if sh scripts/deps --list test >"$tmp/test" 2>"$tmp/err" &&
	lack=$(has_all "$tmp/test" $build $peers mandoc groff-base time); then
	echo "PASS deps-test-has-peers"
else
	echo "FAIL deps-test-has-peers: the test group lacks ${lack:-?} $(head -c 200 "$tmp/err")"
fi

# The targets: demo asks for the build group, test for the test group.
if command -v make >/dev/null 2>&1; then
	make -n demo BUILD="$tmp/b" 2>&1 | grep -o 'scripts/deps[^|;&]*' >"$tmp/demo"
	if grep -qx 'scripts/deps build' "$tmp/demo" && ! grep -qv -x 'scripts/deps build' "$tmp/demo"; then
		echo "PASS deps-make-demo"
	else
		echo "FAIL deps-make-demo: make demo runs: $(tr '\n' ';' <"$tmp/demo")"
	fi
	make -n deps 2>&1 | grep -o 'scripts/deps[^|;&]*' >"$tmp/mk"
	if grep -q '^scripts/deps test' "$tmp/mk"; then
		echo "PASS deps-make-test"
	else
		echo "FAIL deps-make-test: make deps runs: $(tr '\n' ';' <"$tmp/mk")"
	fi
else
	echo "SKIP deps-make: make is not installed"
fi

# A failed install exits non-zero (3), one that worked 0.  A PATH of only
# the tools the script uses, a fake `id` saying root and a fake apt-get;
# mandoc, groff, node and npm are then missing.
mkdir "$tmp/bin"
for c in tr sort ls grep dirname cc make cat; do
	p=$(command -v "$c") && ln -s "$p" "$tmp/bin/$c"
done
printf '#!/bin/sh\necho 0\n' >"$tmp/bin/id"
printf '#!/bin/sh\nexit 100\n' >"$tmp/bin/apt-get"
chmod +x "$tmp/bin/id" "$tmp/bin/apt-get"
PATH="$tmp/bin" /bin/sh scripts/deps test >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 3 ] && grep -q 'could not install' "$tmp/err"; then
	echo "PASS deps-failed-install-exits-3"
else
	echo "FAIL deps-failed-install-exits-3: exit $rc: $(head -c 300 "$tmp/err")"
fi
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/apt-get"
PATH="$tmp/bin" /bin/sh scripts/deps build test >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ]; then
	echo "PASS deps-install-exits-0"
else
	echo "FAIL deps-install-exits-0: exit $rc: $(head -c 300 "$tmp/err")"
fi
