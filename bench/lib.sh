# bench/lib.sh -- pieces shared by bench/run, bench/library and bench/upload. Source it from
# the repository root (itcloud reads ./lua and ./migrations):
#
#   cd "$(dirname "$0")/.." && source bench/lib.sh
#   bench_need wrk curl cc        # check tools; installs nothing
#   bench_init library            # WORK=/tmp/itcloud-library.XXXXXX, cleanup on exit
#
# Every process started through start_itcloud, start_bare or track is stopped on exit (also
# on Ctrl-C), and WORK is removed.
# shellcheck shell=bash disable=SC2034  # the variables set here are read by the scripts

DURATION=${BENCH_DURATION:-10}               # seconds per measured wrk run
WARMUP=2                                     # seconds of untimed load before each run
CONNECTIONS=64
WRK_THREADS=2
PIDS=()                                      # every background process we start

# --- prerequisites: we install nothing -------------------------------------------------------

# Fails with a hint unless every tool named is on PATH and bin/itcloud is built.
bench_need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null && continue
        if [[ $tool == wrk ]]; then
            echo "bench: wrk is not installed. Install it with: sudo apt-get install wrk" >&2
            echo "       (or build it from https://github.com/wg/wrk)" >&2
        else
            echo "bench: $tool is required" >&2
        fi
        exit 1
    done
    if [[ ! -x bin/itcloud ]]; then
        echo "bench: bin/itcloud is missing; run 'make bench' (it builds it first)" >&2
        exit 1
    fi
}

# --- scratch space and cleanup ----------------------------------------------------------------

# Makes WORK (a temporary directory, under BENCH_TMPDIR, else TMPDIR, else /tmp) and installs
# the cleanup traps. $1 names the benchmark.
bench_init() {
    WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/itcloud-$1.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM                 # run the EXIT trap on Ctrl-C too
    # set -e stops a script silently; say which command failed (also inside functions)
    set -o errtrace
    trap 'echo "bench: failed (status $?) at ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND" >&2' ERR
}

bench_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    [[ -n ${WORK:-} ]] && rm -rf "$WORK"
}

# Remembers a background process so that cleanup stops it.
track() {
    PIDS+=("$1")
}

# Stops one process we started and forgets it.
stop() {
    local pid=$1 keep=() p
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${PIDS[@]}"; do
        [[ $p == "$pid" ]] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# --- servers ----------------------------------------------------------------------------------

# Prints a TCP port nobody listens on, below the kernel's ephemeral range: wrk's client sockets
# take ephemeral ports (thousands of them when a server closes every connection), and binding
# to one of those fails with "Address already in use".
free_port() {
    local low high first count port
    read -r low high </proc/sys/net/ipv4/ip_local_port_range
    if ((low > 11000)); then
        first=10000 count=$((low - 10000))          # below the range (the usual case)
    else
        first=$((high + 1)) count=$((65535 - high))  # else above it
        ((count > 0)) || first=1024 count=64511      # no room: take any port
    fi
    while :; do
        port=$((first + (RANDOM * 32768 + RANDOM) % count))
        if ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# Succeeds when GET /healthz on $1 answers 200. Pure bash (no fork), so it can poll tightly.
# 2>/dev/null comes first so that it also hides the refused connect of the 3<> redirection.
healthz_ok() {
    local status=""
    { printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
      IFS= read -r -t 1 status <&3; } 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    [[ $status == "HTTP/1.1 200"* ]]
}

# Waits until the server on port $1 (pid $2) answers /healthz; prints the ms since $3 (a
# ${EPOCHREALTIME/./}, in µs, taken just before the process was started). Gives up after 10 s.
wait_healthz_ms() {
    local port=$1 pid=$2 t0=$3 t
    while ! healthz_ok "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "bench: the server (pid $pid) exited during start-up" >&2
            return 1
        fi
        t=${EPOCHREALTIME/[.,]/}
        if ((10#$t - t0 > 10000000)); then
            echo "bench: no /healthz answer on port $port after 10 s" >&2
            return 1
        fi
    done
    t=${EPOCHREALTIME/[.,]/}
    t=$((10#$t - t0))
    printf '%d.%d' $((t / 1000)) $((t % 1000 / 100))
}

# Starts itcloud on port $1 with data dir $2 and log level $3, logging to $4.
# Sets ITC_PID and ITC_START_MS (ms from exec to first answered /healthz).
start_itcloud() {
    local port=$1 data=$2 level=$3 log=$4 t0
    t0=${EPOCHREALTIME/[.,]/}     # µs; no fork, so nothing is added before the start
    t0=$((10#$t0))
    DATA_DIR="$data" PORT="$port" HTTP_THREADS=2 APP_ENV=test LOG_LEVEL="$level" \
        JWT_ACCESS_TTL_SECONDS=86400 SHUTDOWN_GRACE_SECONDS=1 \
        ./bin/itcloud serve 2>>"$log" &
    ITC_PID=$!
    PIDS+=("$ITC_PID")
    ITC_START_MS=$(wait_healthz_ms "$port" "$ITC_PID" "$t0") || { tail -n 20 "$log" >&2; exit 1; }
}

# Compiles bench/bare_server.c into $WORK/bare_server and writes $WORK/bench.lua, the wrk
# script whose done() hook prints one parseable line (wrk reports latency in µs):
#   BENCH requests=... rps=... p50_ms=... p99_ms=... non2xx=... socket_errors=...
build_bare() {
    # shellcheck disable=SC2046  # pkg-config output is meant to split into words
    cc -O2 -std=c11 -Wall -Wextra -Wno-unused-parameter -o "$WORK/bare_server" \
        bench/bare_server.c $(pkg-config --cflags --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
    cat >"$WORK/bench.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
LUA
}

# Starts bare_server on port $1 answering file $2 with content type $3.
# Sets BARE_PID and BARE_START_MS.
start_bare() {
    local port=$1 t0
    t0=${EPOCHREALTIME/[.,]/}     # µs; no fork, so nothing is added before the start
    t0=$((10#$t0))
    "$WORK/bare_server" "$port" "$2" "$3" 2>>"$WORK/bare.log" &
    BARE_PID=$!
    PIDS+=("$BARE_PID")
    BARE_START_MS=$(wait_healthz_ms "$port" "$BARE_PID" "$t0") || { cat "$WORK/bare.log" >&2; exit 1; }
}

# --- measuring --------------------------------------------------------------------------------

# VmRSS of pid $1 in kB.
rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# Samples VmRSS (kB) of pid $1 every 100 ms into file $2, keeping the maximum, until killed.
sample_rss() {
    local pid=$1 out=$2 max=0 key value _
    while kill -0 "$pid" 2>/dev/null; do
        while read -r key value _; do
            if [[ $key == VmRSS: ]]; then
                ((value > max)) && max=$value
                echo "$max" >"$out"
                break
            fi
        done <"/proc/$pid/status" 2>/dev/null || true
        sleep 0.1
    done
}

# Starts sample_rss for pid $1 into file $2 in the background; sets RSS_PID (stop it with
# `stop "$RSS_PID"`).
start_rss_sampler() {
    sample_rss "$1" "$2" &
    RSS_PID=$!
    PIDS+=("$RSS_PID")
}

# Runs wrk against URL $1 (extra wrk arguments follow) after a warm-up; prints the parseable
# "BENCH ..." line from bench.lua's done() hook.
run_wrk() {
    local url=$1
    shift
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$@" "$url" >/dev/null
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/bench.lua" "$@" "$url" \
        | grep '^BENCH ' || { echo "bench: wrk printed no result for $url" >&2; exit 1; }
}

# --- the API ----------------------------------------------------------------------------------

# Registers (when $3 is "register") and logs in $1 / password $2 at $BASE; sets TOKEN and AUTH
# ("Authorization: Bearer ..."). Exits with the answer on any unexpected status.
api_login() {
    local email=$1 password=$2 mode=${3:-} creds code
    creds="{\"email\":\"$email\",\"password\":\"$password\"}"
    if [[ $mode == register ]]; then
        code=$(curl -s -o "$WORK/register.json" -w '%{http_code}' -X POST \
            "$BASE/api/v1/auth/register" -H 'Content-Type: application/json' -d "$creds")
        [[ $code == 201 ]] || { echo "bench: register answered $code" >&2; cat "$WORK/register.json" >&2; exit 1; }
    fi
    code=$(curl -s -o "$WORK/login.json" -w '%{http_code}' -X POST "$BASE/api/v1/auth/login" \
        -H 'Content-Type: application/json' -d "$creds")
    [[ $code == 200 ]] || { echo "bench: login answered $code" >&2; cat "$WORK/login.json" >&2; exit 1; }
    TOKEN=$(json_string access_token <"$WORK/login.json")
    [[ -n $TOKEN ]] || { echo "bench: no access_token in the login answer" >&2; exit 1; }
    AUTH="Authorization: Bearer $TOKEN"
}

# Prints the first string value of key $1 in the JSON on stdin (enough for ids, tokens,
# cursors and URLs: undoes the \/ escape and core.json's \u0026, \u003c, \u003e). Prints
# nothing, and succeeds, when the key is absent.
json_string() {
    { grep -o "\"$1\" *: *\"[^\"]*\"" || true; } | head -n 1 \
        | sed 's/^[^:]*: *"//; s/"$//; s#\\/#/#g; s/\\u0026/\&/g; s/\\u003c/</g; s/\\u003e/>/g'
}

# --- the report -------------------------------------------------------------------------------

# Prints the machine line of a report header.
machine_line() {
    local cpu
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr);" \
         "load average $(cut -d' ' -f1-3 /proc/loadavg) at the start (other busy processes skew every figure)"
}

# Prints the tool-versions and load lines of a wrk report header.
load_lines() {
    echo "- libmicrohttpd $(pkg-config --modversion libmicrohttpd 2>/dev/null || echo '?')," \
         "$(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2 || true)"   # wrk -v exits 1
    echo "- load: wrk -t$WRK_THREADS -c$CONNECTIONS, ${WARMUP} s warm-up + ${DURATION} s measured," \
         "on the same machine as the server; itcloud HTTP_THREADS=2, LOG_LEVEL=warn"
}

# Reads field $2 (e.g. rps) from a "BENCH k=v ..." line $1.
field() {
    local kv
    for kv in $1; do
        [[ $kv == "$2="* ]] && { echo "${kv#*=}"; return; }
    done
    echo "?"
}

# Formats a/b as a ratio with two decimals, or "-" when either side is missing.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-";
                                     else printf "%.2f", a / b }'
}

# Prints "pass" or "FAIL" for the awk condition $1 over a and b.
verdict() {
    awk -v a="$2" -v b="${3:-0}" "BEGIN { exit !($1) }" && echo "pass" || echo "FAIL"
}

# kB -> MB with one decimal.
mb() {
    awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

# Prints a WARNING line for a "BENCH ..." line $2 (named $1) that saw non-2xx answers or
# socket errors: the numbers of such a run are not comparable.
warn_errors() {
    local name=$1 line=$2
    if [[ $(field "$line" non2xx) != 0 || $(field "$line" socket_errors) != 0 ]]; then
        echo "- WARNING $name: $(field "$line" non2xx) non-2xx answers," \
             "$(field "$line" socket_errors) socket errors (of $(field "$line" requests) requests)"
    fi
}
