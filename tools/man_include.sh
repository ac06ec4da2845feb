#!/usr/bin/env bash
# Writes the help2man include file of the man page: one section per subcommand, holding that
# subcommand's --help (the same text the program prints).
# usage: man_include.sh PROGRAM OUTPUT
set -euo pipefail
prog=$1 out=$2
{
    echo "[SUBCOMMANDS]"
    for c in demo bench tune tail sessions cursors verify stat help completion; do
        echo ".SS $c"
        echo ".nf"
        "$prog" "$c" --help | sed 's/\\/\\\\/g; s/^\./\\\&./'
        echo ".fi"
    done
    echo "[ENVIRONMENT]"
    echo ".TP"
    echo "SESSIONRING_STORE"
    echo "The default store of every subcommand (else ./sessionring-data)."
    echo "[SEE ALSO]"
    echo "docs/cli.md, docs/store.md and docs/errors.md of the sessionring sources (installed in share/doc/sessionring)."
} > "$out"
