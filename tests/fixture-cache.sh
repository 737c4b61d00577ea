# A content-addressed cache for test fixtures that take seconds to build and
# do not depend on the build type (componentize-js components, guests adapted
# by `jco new`). The build trees (build/, build-asan/, ...) share it, so the
# second one copies what the first built. Sourced by the scripts that build
# such fixtures:
#
#   fixture_key ITEM...     prints a SHA-256 over the ITEMs, in order: a file
#                           (its content), a directory (each file's relative
#                           path and content) or =TEXT (the text itself: tool
#                           versions, flags, names). The key must name every
#                           input the output depends on.
#   fixture_fetch KEY OUT   copies the entry KEY to OUT (atomically); fails
#                           when there is none
#   fixture_store KEY FILE  adds FILE as the entry KEY (atomically, so
#                           concurrent tests may store the same key)
#
# The cache is the directory $WHIRL_FIXTURE_CACHE, by default .fixture-cache
# at the top of the checkout (git-ignored); WHIRL_FIXTURE_CACHE=off turns it
# off. Storing removes the entries unused for 14 days. A cache that cannot
# be written only costs the rebuild.

fixture_cache_dir() {
    local dir=${WHIRL_FIXTURE_CACHE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.fixture-cache}
    [ "$dir" != off ] || return 1
    printf '%s\n' "$dir"
}

fixture_key() {
    local - item
    set -o pipefail
    for item in "$@"; do
        if [ "${item:0:1}" = "=" ]; then
            printf 'text %q\n' "${item:1}"
        elif [ -d "$item" ]; then
            echo "dir"
            (cd "$item" && find -L . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) ||
                return 1
        elif [ -f "$item" ]; then
            printf 'file %s\n' "$(sha256sum <"$item" | cut -d' ' -f1)" || return 1
        else
            echo "fixture_key: $item: no such file or directory" >&2
            return 1
        fi
    done | sha256sum | cut -d' ' -f1
}

fixture_fetch() {
    local dir tmp
    dir=$(fixture_cache_dir) && [ -f "$dir/$1" ] || return 1
    tmp=$(mktemp "$2.XXXXXX") || return 1
    if cp "$dir/$1" "$tmp" && chmod 644 "$tmp" && mv -f "$tmp" "$2"; then
        touch "$dir/$1" 2>/dev/null # the last use, for the pruning
        return 0
    fi
    rm -f "$tmp"
    return 1
}

fixture_store() {
    local dir tmp
    dir=$(fixture_cache_dir) && mkdir -p "$dir" 2>/dev/null || return 0
    find "$dir" -maxdepth 1 -type f \( -mtime +14 -o -name '.tmp.*' -mmin +120 \) \
        -delete 2>/dev/null
    tmp=$(mktemp "$dir/.tmp.XXXXXX" 2>/dev/null) || return 0
    if ! { cp "$2" "$tmp" && mv -f "$tmp" "$dir/$1"; }; then
        rm -f "$tmp"
    fi
    return 0
}
