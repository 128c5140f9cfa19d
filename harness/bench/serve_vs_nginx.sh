#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# serve_vs_nginx.sh - `etch serve` next to nginx on this machine, in the same run, with wrk.
#
# nginx answers every request with a static 202 and {"Success":"true"} (no logging); etch
# serve answers a SigV4-signed ReadJob, so every one of its requests is parsed, verified
# (a signature check each time; the signing key comes from its cache), routed and answered
# (404 ResourceNotFoundException: the job does not exist, which needs no state). wrk sends
# the same pre-signed request over and over; `etch serve --skew-seconds` widens the clock
# window so that the signature stays current for the whole run. The two servers are
# measured alternately, several times, and the medians are compared.
#
# Then a soak: wrk at 64 connections against etch serve alone for --soak-seconds (60 by
# default) while the server's resident memory is sampled every second; its growth after
# the first quarter of the run is reported, and whether memory stayed flat.
#
# Besides requests per second, each server's CPU time per request is taken from
# /proc/PID/task/*/schedstat: on a machine that other work shares, that figure moves
# less than the rate does.
#
# Needs wrk and nginx (Debian: apt-get install wrk nginx-light) and a built etch. Not run
# by CI: it takes minutes and its figures mean something only on an otherwise idle
# machine. Only processes this script starts are stopped, by their own ids. Everything
# listens on 127.0.0.1.
#
# usage: harness/bench/serve_vs_nginx.sh [--etch PATH] [--duration S] [--runs N]
#            [--connections N] [--threads N] [--soak-seconds S] [--wrk-threads N]
#   defaults: 10 s per run, 3 runs, 64 connections, etch serve --threads = CPUs (as nginx's
#   worker_processes auto), 60 s soak, 2 wrk threads
set -eu

etch=""
duration_s=10
runs=3
connections=64
threads=$(nproc)
soak_s=60
wrk_threads=2
soak_connections=64
# Growth of resident memory (KiB) after warm-up that still counts as flat.
flat_kib=2048

usage() {
    # The usage lines of the comment at the top.
    sed -n '/^# usage:/,/^[^#]/s/^# \{0,1\}//p' "$0"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --etch) etch=$2; shift 2 ;;
        --duration) duration_s=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --soak-seconds) soak_s=$2; shift 2 ;;
        --wrk-threads) wrk_threads=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "serve_vs_nginx: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -z "$etch" ]; then
    for candidate in "$root/build/etch" "$root/build-ci/etch"; do
        if [ -x "$candidate" ]; then
            etch=$candidate
            break
        fi
    done
fi
if [ -z "$etch" ] || [ ! -x "$etch" ]; then
    echo "serve_vs_nginx: no etch binary (build it, or pass --etch PATH)" >&2
    exit 2
fi
for tool in wrk nginx curl; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        echo "serve_vs_nginx: $tool is not installed" \
            "(Debian: apt-get install wrk nginx-light curl)" >&2
        exit 2
    fi
done
nginx_bin=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)

work=$(mktemp -d)
etch_pid=""
nginx_pid=""
cleanup() {
    if [ -n "$etch_pid" ]; then
        kill -TERM "$etch_pid" 2>/dev/null || true
        wait "$etch_pid" 2>/dev/null || true
    fi
    if [ -n "$nginx_pid" ]; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A loopback port nothing answers on, counting up from a start, checked with curl: nginx
# needs its port written in its configuration (etch serve picks its own with port 0).
free_port() {
    port=$1
    while curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" 2>/dev/null; do
        port=$((port + 1))
    done
    echo "$port"
}

# --- nginx: a static 202, one worker per CPU, no logs -------------------------------------
nginx_port=$(free_port 18481)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            default_type application/json;
            return 202 '{"Success":"true"}';
        }
    }
}
EOF
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!

# --- etch serve: quiet, a wide clock window, the chosen number of threads ----------------
"$etch" serve --listen 127.0.0.1:0 --quiet --skew-seconds 86400 --threads "$threads" \
    >"$work/etch.out" 2>"$work/etch.err" &
etch_pid=$!
etch_port=""
for _ in $(seq 1 50); do
    etch_port=$(sed -n 's/^etch serve: listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' \
        "$work/etch.out" 2>/dev/null)
    [ -n "$etch_port" ] && break
    sleep 0.1
done
if [ -z "$etch_port" ]; then
    echo "serve_vs_nginx: etch serve did not start:" >&2
    cat "$work/etch.err" >&2
    exit 1
fi
for _ in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break
    sleep 0.1
done

# --- The pre-signed request and the wrk script that sends it ---------------------------
path=/2012-09-25/jobs/9999999999999-nginxx
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n' "$path" "$etch_port" >"$work/request.http"
"$etch" sigv4 sign --print request "$work/request.http" >"$work/signed.http"
amz_date=$(grep -i '^x-amz-date:' "$work/signed.http" | tr -d '\r' | sed 's/^[^:]*: *//')
authorization=$(grep -i '^authorization:' "$work/signed.http" | tr -d '\r' | sed 's/^[^:]*: *//')
cat >"$work/signed.lua" <<EOF
wrk.method = "GET"
wrk.path = "$path"
wrk.headers["Host"] = "127.0.0.1:$etch_port"
wrk.headers["X-Amz-Date"] = "$amz_date"
wrk.headers["Authorization"] = "$authorization"
EOF
# The request must pass verification (404 for the missing job), not fail it (403).
status=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Amz-Date: $amz_date" \
    -H "Authorization: $authorization" "http://127.0.0.1:$etch_port$path")
if [ "$status" != "404" ]; then
    echo "serve_vs_nginx: the signed request got $status from etch serve, want 404" >&2
    exit 1
fi

rps() {
    # wrk's "Requests/sec:" line.
    sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"
}

requests() {
    # wrk's "N requests in ..." line.
    sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1"
}

# CPU time (ns) used so far by the given processes and their children's threads: the
# server's own cost per request, which another load on the machine disturbs less than
# its rate.
cpu_ns() {
    total=0
    for pid in "$@"; do
        for kid in $pid $(ps -o pid= --ppid "$pid" 2>/dev/null); do
            for stat in /proc/"$kid"/task/*/schedstat; do
                [ -r "$stat" ] || continue
                total=$((total + $(cut -d' ' -f1 "$stat")))
            done
        done
    done
    echo "$total"
}

# Runs wrk against one server and appends its req/s and its CPU ns per request.
measure() {
    name=$1
    pid=$2
    shift 2
    before=$(cpu_ns "$pid")
    wrk -t"$wrk_threads" -c"$connections" -d"${duration_s}s" "$@" >"$work/wrk-$name.txt"
    after=$(cpu_ns "$pid")
    rps "$work/wrk-$name.txt" >>"$work/$name.rps"
    n=$(requests "$work/wrk-$name.txt")
    echo $(((after - before) / (n > 0 ? n : 1))) >>"$work/$name.cpu"
}

median() {
    sort -n | awk '{v[NR] = $1}
        END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

echo "serve_vs_nginx: wrk -t$wrk_threads -c$connections -d${duration_s}s," \
    "$runs alternating runs each;" \
    "etch serve --threads $threads; $(nproc) CPUs"
: >"$work/nginx.rps"
: >"$work/etch.rps"
: >"$work/nginx.cpu"
: >"$work/etch.cpu"
# A short warm-up of both, not counted.
wrk -t"$wrk_threads" -c"$connections" -d2s "http://127.0.0.1:$nginx_port/" >/dev/null
wrk -t"$wrk_threads" -c"$connections" -d2s -s "$work/signed.lua" "http://127.0.0.1:$etch_port/" \
    >/dev/null
i=1
while [ "$i" -le "$runs" ]; do
    measure nginx "$nginx_pid" "http://127.0.0.1:$nginx_port/"
    measure etch "$etch_pid" -s "$work/signed.lua" "http://127.0.0.1:$etch_port/"
    if grep -q 'Socket errors' "$work/wrk-etch.txt"; then
        grep 'Socket errors' "$work/wrk-etch.txt" | sed 's/^/  etch: /'
    fi
    printf '  run %d: nginx %s req/s (%s ns CPU/req), etch serve %s req/s (%s ns CPU/req)\n' \
        "$i" "$(tail -n 1 "$work/nginx.rps")" "$(tail -n 1 "$work/nginx.cpu")" \
        "$(tail -n 1 "$work/etch.rps")" "$(tail -n 1 "$work/etch.cpu")"
    i=$((i + 1))
done
nginx_med=$(median <"$work/nginx.rps")
etch_med=$(median <"$work/etch.rps")
ratio=$(awk -v e="$etch_med" -v n="$nginx_med" 'BEGIN {printf "%.2f", (n > 0 ? e / n : 0)}')
nginx_cpu=$(median <"$work/nginx.cpu")
etch_cpu=$(median <"$work/etch.cpu")
cpu_ratio=$(awk -v e="$etch_cpu" -v n="$nginx_cpu" 'BEGIN {printf "%.2f", (e > 0 ? n / e : 0)}')
echo "nginx (static 202):          $nginx_med req/s, $nginx_cpu ns server CPU/request (medians)"
echo "etch serve (signed ReadJob): $etch_med req/s, $etch_cpu ns server CPU/request (medians)"
echo "etch serve / nginx:          $ratio by requests per second;" \
    "$cpu_ratio by server CPU per request (nginx's / etch's)"

# --- Soak: resident memory over a long run at 64 connections ----------------------------
if [ "$soak_s" -gt 0 ]; then
    : >"$work/rss.kib"
    wrk -t"$wrk_threads" -c"$soak_connections" -d"${soak_s}s" -s "$work/signed.lua" \
        "http://127.0.0.1:$etch_port/" >"$work/wrk-soak.txt" &
    wrk_pid=$!
    while kill -0 "$wrk_pid" 2>/dev/null; do
        sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$etch_pid/status" >>"$work/rss.kib"
        sleep 1
    done
    wait "$wrk_pid" || true
    samples=$(wc -l <"$work/rss.kib")
    warm=$((samples / 4 + 1))
    # After warm-up: the first sample, the last, and the largest.
    summary=$(awk -v warm="$warm" -v flat="$flat_kib" '
        NR == 1 {first = $1}
        NR == warm {base = $1}
        NR >= warm && $1 > max {max = $1}
        {last = $1}
        END {
            growth = max - base
            printf "%d %d %d %d %d %s", first, base, last, max, growth,
                   (growth <= flat ? "flat" : "GREW")
        }' "$work/rss.kib")
    # shellcheck disable=SC2086 # split into the five figures on purpose
    set -- $summary
    echo "soak: ${soak_s}s at $soak_connections connections, $(rps "$work/wrk-soak.txt") req/s;" \
        "RSS KiB: start $1, after warm-up $2, end $3, max $4; growth $5 KiB -> $6" \
        "(flat means at most $flat_kib KiB)"
fi
