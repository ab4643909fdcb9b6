#!/bin/sh
# Check built executables for the hardening the build asks for, the way
# checksec reads them: PIE, full RELRO (GNU_RELRO + BIND_NOW), a stack
# protector, and fortified libc calls where the build enables
# _FORTIFY_SOURCE.  TAP output, one case per check per binary.
#
# usage: check-hardening.sh FORTIFY_LEVEL UNHARDENED_SAMPLE BINARY...
#
# UNHARDENED_SAMPLE is a program built with every protection turned off;
# each check must reject it, which shows the checks can fail.
set -u

fortify=$1
sample=$2
shift 2

n=0
failed=0
tap() { # tap OK|FAIL description
    n=$((n + 1))
    if [ "$1" = OK ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
    fi
}

is_pie() {
    readelf -hW "$1" | grep -Eq '^ *Type: +DYN' || return 1
    # A shared library is DYN too; an executable says PIE in FLAGS_1
    # (or, with older linkers, has an interpreter).
    readelf -dW "$1" | grep -Eq '\(FLAGS_1\).*PIE' ||
        readelf -lW "$1" | grep -q 'INTERP'
}
has_relro() { readelf -lW "$1" | grep -q 'GNU_RELRO'; }
has_bind_now() {
    readelf -dW "$1" | grep -Eq '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW'
}
has_canary() { readelf --dyn-syms -W "$1" | grep -q '__stack_chk_fail'; }
has_fortify() {
    readelf --dyn-syms -W "$1" | grep -v '__stack_chk_fail' | grep -Eq ' __[a-z0-9_]+_chk(@|$)'
}

checks="is_pie has_relro has_bind_now has_canary"
if [ "$fortify" -gt 0 ]; then
    checks="$checks has_fortify"
fi

for bin in "$@"; do
    name=$(basename "$bin")
    for c in $checks; do
        if $c "$bin"; then tap OK "$name: $c"; else tap FAIL "$name: $c"; fi
    done
done
for c in $checks; do
    if $c "$sample"; then
        tap FAIL "unhardened sample rejected by $c"
    else
        tap OK "unhardened sample rejected by $c"
    fi
done
if [ "$fortify" -eq 0 ]; then
    echo "# fortify: off in this build (no optimisation, or a sanitizer build)"
else
    echo "# fortify: _FORTIFY_SOURCE=$fortify"
fi
echo "1..$n"
[ "$failed" -eq 0 ]
