#!/bin/sh
# t_scripts_build.sh - the benchmark drivers in scripts/*.c still build
# against the library (make bench compiles them only when it runs, so a
# renamed header broke bench-gemm and bench-lstm-layer unnoticed once).
# darknet-bench.c builds against Debian's libdarknet, when installed.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
lib=$PWD/$BUILD/libnk.a
DN=/usr/lib/darknet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
san=
[ -n "${NK_SANITIZED:-}" ] && san="-fsanitize=address,undefined"
for src in scripts/*.c; do
	name=$(basename "$src" .c)
	if [ "$name" = darknet-bench ]; then
		if [ ! -f "$DN/libdarknet.so" ]; then
			echo "SKIP scripts-build $name: Debian's darknet is not installed"
			continue
		fi
		set -- -I"$DN/include" -L"$DN" -ldarknet -lpthread
	else
		set -- "$lib" -lpng -ljpeg -lstb -lutf8proc -lpcre2-8 -lz
		# A library built with MPI (core/dist.c) links Open MPI too.
		if nm "$lib" 2>/dev/null | grep -q ' U MPI_Init$'; then
			# shellcheck disable=SC2046
			set -- -DNK_MPI $(mpicc --showme:compile) "$@" $(mpicc --showme:link)
		fi
	fi
	# shellcheck disable=SC2086
	if cc -std=gnu11 -D_GNU_SOURCE -O1 -march=native -fopenmp $san -Ilib -o "$tmp/$name" "$src" "$@" -lm \
		2>"$tmp/err"; then
		echo "PASS scripts-build $name"
	else
		echo "FAIL scripts-build $name: $(grep -m1 error "$tmp/err")"
	fi
done
