#!/usr/bin/env bash
# Counts split responses (bench/FINDINGS.md, section 1) during bench points:
# for each of POINTS wrk runs with CONNECTIONS connections (defaults 1 and 1),
# straces Spin's serving process for SECONDS (default 4) into OUT.<n> and
# runs gaps.py on it. Start it just before the bench:
#   bench/experiments/trace_splits.sh /tmp/t 4 1 2 & bench/run.sh --conc 1 --routes readyz,task ...
set -euo pipefail
out=$1; secs=${2:-4}; conns=${3:-1}; points=${4:-1}
here=$(cd "$(dirname "$0")" && pwd)
seen=" "
for n in $(seq 1 "$points"); do
  while :; do
    w=$(pgrep -f "^wrk .*-c $conns " | head -1 || true)
    if [ -n "$w" ] && [[ "$seen" != *" $w "* ]]; then break; fi
    sleep 0.2
  done
  seen="$seen$w "
  sleep 1
  pid=$(pgrep -f "spin trigger http" | tail -1 || true)
  [ -n "$pid" ] || pid=$(pgrep -f "spin up --from" | tail -1)
  timeout "$secs" strace -f -tt -e trace=write,writev,sendto,recvfrom -s 64 -p "$pid" -o "$out.$n" 2>/dev/null || true
  echo "== point $n ($(tr '\0' ' ' < /proc/$w/cmdline 2>/dev/null | grep -o 'c [0-9]*' || true))"
  python3 "$here/gaps.py" "$out.$n"
done
