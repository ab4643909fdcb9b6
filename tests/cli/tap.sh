# SPDX-License-Identifier: Apache-2.0
# TAP helpers for the CLI test scripts (sourced): a scratch directory $T,
# the counters N and FAILED, and checks on the last command's output.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
N=0
FAILED=0

ok() {  # ok DESCRIPTION EXPECTED_STATUS COMMAND...
    desc=$1 want=$2
    shift 2
    N=$((N + 1))
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -eq "$want" ]; then
        echo "ok $N - $desc"
    else
        echo "not ok $N - $desc (exit $got, wanted $want)"
        sed 's/^/# /' "$T/out" "$T/err" | tail -20
        FAILED=1
    fi
}

out_has() {  # out_has DESCRIPTION JQ_FILTER: the last command's JSON satisfies it
    N=$((N + 1))
    if jq -e "$2" "$T/out" >/dev/null 2>&1; then
        echo "ok $N - $1"
    else
        echo "not ok $N - $1: $2"
        sed 's/^/# /' "$T/out" | tail -20
        FAILED=1
    fi
}

err_has() {  # err_has DESCRIPTION TEXT: the last command's stderr names it
    N=$((N + 1))
    if grep -q -- "$2" "$T/err"; then
        echo "ok $N - $1"
    else
        echo "not ok $N - $1: no '$2' in stderr"
        sed 's/^/# /' "$T/err" | tail -5
        FAILED=1
    fi
}

out_text() {  # out_text DESCRIPTION TEXT: the last command's stdout contains TEXT
    N=$((N + 1))
    if grep -qF -- "$2" "$T/out"; then
        echo "ok $N - $1"
    else
        echo "not ok $N - $1: no '$2' in stdout"
        sed 's/^/# /' "$T/out" | tail -10
        FAILED=1
    fi
}
