#!/usr/bin/env bash
# Builds and runs the HTTP-server and JSON-parser comparisons in one go and
# prints the tables for README.md. Loopback only; every server it starts is
# stopped on exit.
#
#   bench/libchoice/run.sh            # full run (about 5 minutes)
#   DURATION=3s REPEAT=1 N=100000 bench/libchoice/run.sh    # quick look
#
# DURATION: wrk duration per run. REPEAT: runs per configuration, interleaved;
# the tables show the median. N: parses per JSON run. PORT: first port tried.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
DURATION=${DURATION:-10s}
REPEAT=${REPEAT:-3}
N=${N:-1000000}
PORT=${PORT:-18080}
BUILD=${BUILD:-$here/build}
SERVERS=(microhttpd libevent h2o)
PARSERS=(jansson jsonc cjson hfjdoc)

# ---- prerequisites (Debian 12 packages) -------------------------------------
declare -A PC_PKG=([libmicrohttpd]=libmicrohttpd-dev [libevent]=libevent-dev
  [libevent_pthreads]=libevent-dev [libh2o-evloop]=libh2o-evloop-dev [openssl]=libssl-dev
  [jansson]=libjansson-dev [json-c]=libjson-c-dev [libcjson]=libcjson-dev [yajl]=libyajl-dev)
missing=()
for m in "${!PC_PKG[@]}"; do pkg-config --exists "$m" || missing+=("${PC_PKG[$m]}"); done
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

# ---- build -------------------------------------------------------------------
mkdir -p "$BUILD/logs"
CFLAGS=(-O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes)
build() { # out src... -- pkg-config modules...
  local out=$1 srcs=() mods=(); shift
  while (($#)) && [[ $1 != -- ]]; do srcs+=("$1"); shift; done
  shift; mods=("$@")
  # shellcheck disable=SC2046 # pkg-config output is meant to be split
  cc "${CFLAGS[@]}" $(pkg-config --cflags "${mods[@]}") "${srcs[@]}" -o "$BUILD/$out" \
    $(pkg-config --libs "${mods[@]}") -pthread -lm
}
build http_microhttpd http_microhttpd.c -- libmicrohttpd
build http_libevent http_libevent.c -- libevent libevent_pthreads
build http_h2o http_h2o.c -- libh2o-evloop openssl
build json_bench_jansson json_bench.c json_jansson.c -- jansson
build json_bench_jsonc json_bench.c json_jsonc.c -- json-c
build json_bench_cjson json_bench.c json_cjson.c -- libcjson
common=$here/../../common
CFLAGS+=(-I"$common")
build json_bench_hfjdoc json_bench.c json_hfjdoc.c "$common/hf_jdoc.c" "$common/hf_utf8.c" "$common/hf_err.c" \
  -- jansson yajl

# ---- server lifetime ---------------------------------------------------------
server_pid=
stop_server() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# The servers use SO_REUSEPORT, so a port someone else listens on would be
# silently shared: take the first port with no listener at all.
port_busy() { ss -Htln "sport = :$1" | grep -q .; }
while port_busy "$PORT"; do PORT=$((PORT + 1)); done
url=http://127.0.0.1:$PORT

start_server() { # lib mode
  "$BUILD/http_$1" "$PORT" "$2" &
  server_pid=$!
  for _ in $(seq 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @event.json "$url/v1/events" || true)
    [[ $code == 202 ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "http_$1 $2 did not answer 202 on $url" >&2
  exit 1
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
spread() { sort -n | awk '{v[NR]=$1} END {printf "%s (%s–%s)", v[int((NR+1)/2)], v[1], v[NR]}'; }
# pick FILE COL KEY...: column COL of the lines of FILE that start with KEY...
pick() {
  local file=$1 c=$2; shift 2
  awk -v c="$c" -v k="$*" 'index($0, k " ") == 1 {print $c}' "$file"
}
loc() { grep -cvE '^[[:space:]]*($|/\*|\*|//)' "$1"; } # non-blank, non-comment lines

# ---- HTTP --------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=$BUILD/http_results.txt
: >"$results"
for rep in $(seq "$REPEAT"); do
  for lib in "${SERVERS[@]}"; do
    for mode in direct defer; do
      start_server "$lib" "$mode"
      log=$BUILD/logs/wrk_${lib}_${mode}_$rep.txt
      EVENT_JSON=$here/event.json wrk -t1 -c64 -d"$DURATION" --latency -s post.lua "$url" >"$log"
      # server CPU (user + system) over its whole life, per request served
      read -r utime stime < <(awk '{print $14, $15}' "/proc/$server_pid/stat")
      stop_server
      read -r _ rps p50 p99 non2xx errs nreq < <(grep '^RESULT' "$log")
      cpu=$(awk -v t=$((utime + stime)) -v hz="$(getconf CLK_TCK)" -v n="$nreq" \
        'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
      echo "$lib $mode $rps $p50 $p99 $non2xx $errs $cpu" >>"$results"
      echo "  run $rep/$REPEAT $lib $mode: $rps req/s" >&2
    done
  done
done

echo
echo "HTTP: wrk -t1 -c64 -d$DURATION, POST /v1/events ($(wc -c <event.json) B body), median of $REPEAT runs;" \
  "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| server | version | mode | req/s (min–max) | p50 | p99 | server CPU/req | non-2xx | socket errors | LoC |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
declare -A VER=([microhttpd]=libmicrohttpd [libevent]=libevent [h2o]=libh2o-evloop)
for lib in "${SERVERS[@]}"; do
  for mode in direct defer; do
    med() { pick "$results" "$1" "$lib" "$mode" | median; }
    rng() { pick "$results" "$1" "$lib" "$mode" | spread; }
    total() { pick "$results" "$1" "$lib" "$mode" | awk '{s += $1} END {print s + 0}'; }
    printf '| %s | %s | %s | %s | %s µs | %s µs | %s µs | %s | %s | %s |\n' "$lib" \
      "$(pkg-config --modversion "${VER[$lib]}")" "$mode" "$(rng 3)" "$(med 4)" "$(med 5)" \
      "$(med 8)" "$(total 6)" "$(total 7)" "$(loc "http_$lib.c")"
  done
done

# ---- JSON --------------------------------------------------------------------
results=$BUILD/json_results.txt
: >"$results"
for rep in $(seq "$REPEAT"); do
  for p in "${PARSERS[@]}"; do
    "$BUILD/json_bench_$p" event.json "$N" >>"$results"
  done
done
echo
echo "JSON: parse + walk every field + free, $(wc -c <event.json) B event, $N times, median of $REPEAT runs"
echo
echo "| parser | version | ns/parse | peak RSS | heap of one parsed event | LoC | sum of values read |"
echo "|---|---|---:|---:|---:|---:|---|"
declare -A NAME=([jansson]=jansson [jsonc]=json-c [cjson]=cjson [hfjdoc]=hf_jdoc)
declare -A PC=([jansson]=jansson [jsonc]=json-c [cjson]=libcjson [hfjdoc]=yajl)
for p in "${PARSERS[@]}"; do
  med() { pick "$results" "$1" RESULT "${NAME[$p]}" | median; }
  printf '| %s | %s | %s | %s KiB | %s B | %s | %s |\n' "${NAME[$p]}" \
    "$(pkg-config --modversion "${PC[$p]}")" "$(med 3)" "$(med 4)" "$(med 5)" \
    "$(loc "json_$p.c")" "$(med 6)"
done

echo
echo "JSON: what each parser says about input the intake must refuse"
echo
echo "| parser | input | message |"
echo "|---|---|---|"
for p in "${PARSERS[@]}"; do
  "$BUILD/json_bench_$p" errors | sed -E 's/^ERROR /| /; s/$/ |/'
done
