# memcap.sh - sourced by test scripts: memcap MB COMMAND... runs COMMAND
# with its memory capped at MB megabytes, so that a check of what a
# program does when memory runs out ends in seconds.  ulimit -v caps the
# address space; AddressSanitizer reserves terabytes of it for its shadow
# and cannot start under such a cap, so a sanitized build (NK_SANITIZED)
# gets its allocator's own cap instead, each larger allocation failing.
memcap() {
	memcap_mb=$1
	shift
	if [ -n "${NK_SANITIZED:-}" ]; then
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=$memcap_mb:allocator_may_return_null=1" "$@"
	else
		(ulimit -v $((memcap_mb * 1024)) && exec "$@")
	fi
}
