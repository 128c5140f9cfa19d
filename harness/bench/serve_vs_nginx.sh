#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# serve_vs_nginx.sh - `etch serve` next to nginx on this machine, in the same run, with wrk.
#
# nginx answers every request with a static 202 and {"Success":"true"} (no logging); etch
# serve answers SigV4-signed ReadJobs, so every one of its requests is parsed, verified
# (a signature check each time; the signing key comes from its cache), routed and answered,
# in two kinds: a ReadJob of a job that does not exist (404 ResourceNotFoundException) and
# one of a job that does (200 with the job, the common case: the pipeline and the job are
# made first with signed CreatePipeline and CreateJob requests, the pipeline paused so that
# the job stays Submitted). wrk sends the same pre-signed request over and over;
# `etch serve --skew-seconds` widens the clock window so that the signature stays current
# for the whole run. nginx and the two etch requests are measured in turn, several times,
# with as many nginx workers as etch serve threads, and the medians are compared.
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
#   defaults: 10 s per run, 3 runs, 64 connections, etch serve --threads and nginx's
#   worker_processes = CPUs, 60 s soak, 2 wrk threads
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
worker_processes $threads;
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

# --- The pre-signed requests and the wrk scripts that send them -------------------------
# sign_headers METHOD PATH BODY_FILE OUT: the X-Amz-Date and Authorization of a request,
# one per line.
sign_headers() {
    {
        printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n' "$1" "$2" "$etch_port"
        if [ -s "$3" ]; then
            printf 'Content-Type: application/json\r\nContent-Length: %s\r\n' \
                "$(wc -c <"$3" | tr -d ' ')"
        fi
        printf '\r\n'
        cat "$3"
    } >"$work/request.http"
    "$etch" sigv4 sign --print request "$work/request.http" >"$work/signed.http"
    grep -i '^x-amz-date:' "$work/signed.http" | tr -d '\r' | sed 's/^[^:]*: *//' >"$4"
    grep -i '^authorization:' "$work/signed.http" | tr -d '\r' | sed 's/^[^:]*: *//' >>"$4"
}

# signed_call METHOD PATH BODY: sends a signed request with curl, prints the answer's body.
signed_call() {
    printf '%s' "$3" >"$work/body.json"
    sign_headers "$1" "$2" "$work/body.json" "$work/sig"
    curl -s -X "$1" -H "X-Amz-Date: $(sed -n 1p "$work/sig")" \
        -H "Authorization: $(sed -n 2p "$work/sig")" -H 'Content-Type: application/json' \
        --data-binary "@$work/body.json" "http://127.0.0.1:$etch_port$2"
}

# json_id TEXT MEMBER: the "Id" of the named member of a JSON answer.
json_id() {
    printf '%s' "$1" | tr ',' '\n' | sed -n "/\"$2\":{/,\$p" |
        sed -n 's/.*"Id":"\([0-9]\{13\}-[a-z0-9]\{6\}\)".*/\1/p' | head -n 1
}

role=arn:aws:iam::111122223333:role/Elastic_Transcoder_Default_Role
answer=$(signed_call POST /2012-09-25/pipelines \
    "{\"Name\":\"bench\",\"InputBucket\":\"in\",\"OutputBucket\":\"out\",\"Role\":\"$role\"}")
pipeline_id=$(json_id "$answer" Pipeline)
if [ -z "$pipeline_id" ]; then
    echo "serve_vs_nginx: CreatePipeline failed: $answer" >&2
    exit 1
fi
signed_call POST "/2012-09-25/pipelines/$pipeline_id/status" \
    "{\"Id\":\"$pipeline_id\",\"Status\":\"Paused\"}" >/dev/null
answer=$(signed_call POST /2012-09-25/jobs \
    "{\"PipelineId\":\"$pipeline_id\",\"Input\":{\"Key\":\"in.mp4\"},\"Output\":{\"Key\":\"out.mp4\",\"PresetId\":\"1351620000001-000010\"}}")
job_id=$(json_id "$answer" Job)
if [ -z "$job_id" ]; then
    echo "serve_vs_nginx: CreateJob failed: $answer" >&2
    exit 1
fi

# read_script NAME JOB_ID STATUS: the wrk script of a pre-signed ReadJob, checked first.
read_script() {
    path=/2012-09-25/jobs/$2
    : >"$work/empty"
    sign_headers GET "$path" "$work/empty" "$work/sig-$1"
    amz_date=$(sed -n 1p "$work/sig-$1")
    authorization=$(sed -n 2p "$work/sig-$1")
    cat >"$work/$1.lua" <<EOF
wrk.method = "GET"
wrk.path = "$path"
wrk.headers["Host"] = "127.0.0.1:$etch_port"
wrk.headers["X-Amz-Date"] = "$amz_date"
wrk.headers["Authorization"] = "$authorization"
EOF
    # The request must pass verification, not fail it (403).
    got=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Amz-Date: $amz_date" \
        -H "Authorization: $authorization" "http://127.0.0.1:$etch_port$path")
    if [ "$got" != "$3" ]; then
        echo "serve_vs_nginx: the signed ReadJob ($1) got $got from etch serve, want $3" >&2
        exit 1
    fi
}
read_script missing 9999999999999-nginxx 404
read_script existing "$job_id" 200

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
    "$runs runs of each in turn;" \
    "etch serve --threads $threads, nginx worker_processes $threads; $(nproc) CPUs"
for name in nginx missing existing; do
    : >"$work/$name.rps"
    : >"$work/$name.cpu"
done
# A short warm-up of each, not counted.
wrk -t"$wrk_threads" -c"$connections" -d2s "http://127.0.0.1:$nginx_port/" >/dev/null
for name in missing existing; do
    wrk -t"$wrk_threads" -c"$connections" -d2s -s "$work/$name.lua" \
        "http://127.0.0.1:$etch_port/" >/dev/null
done
i=1
while [ "$i" -le "$runs" ]; do
    measure nginx "$nginx_pid" "http://127.0.0.1:$nginx_port/"
    for name in missing existing; do
        measure "$name" "$etch_pid" -s "$work/$name.lua" "http://127.0.0.1:$etch_port/"
        if grep -q 'Socket errors' "$work/wrk-$name.txt"; then
            grep 'Socket errors' "$work/wrk-$name.txt" | sed "s/^/  $name: /"
        fi
    done
    printf '  run %d: nginx %s req/s (%s ns CPU/req), ReadJob 404 %s req/s (%s ns),' \
        "$i" "$(tail -n 1 "$work/nginx.rps")" "$(tail -n 1 "$work/nginx.cpu")" \
        "$(tail -n 1 "$work/missing.rps")" "$(tail -n 1 "$work/missing.cpu")"
    printf ' ReadJob 200 %s req/s (%s ns)\n' \
        "$(tail -n 1 "$work/existing.rps")" "$(tail -n 1 "$work/existing.cpu")"
    i=$((i + 1))
done
nginx_med=$(median <"$work/nginx.rps")
nginx_cpu=$(median <"$work/nginx.cpu")
echo "nginx (static 202): $nginx_med req/s, $nginx_cpu ns server CPU/request (medians)"
for name in missing existing; do
    med=$(median <"$work/$name.rps")
    cpu=$(median <"$work/$name.cpu")
    ratio=$(awk -v e="$med" -v n="$nginx_med" 'BEGIN {printf "%.2f", (n > 0 ? e / n : 0)}')
    cpu_ratio=$(awk -v e="$cpu" -v n="$nginx_cpu" 'BEGIN {printf "%.2f", (e > 0 ? n / e : 0)}')
    label="ReadJob 404 (no such job)"
    [ "$name" = existing ] && label="ReadJob 200 (the job)"
    echo "etch serve, $label: $med req/s, $cpu ns server CPU/request;" \
        "$ratio x nginx by requests per second, $cpu_ratio by CPU per request (nginx's / etch's)"
done

# --- Soak: resident memory over a long run at 64 connections ----------------------------
if [ "$soak_s" -gt 0 ]; then
    : >"$work/rss.kib"
    wrk -t"$wrk_threads" -c"$soak_connections" -d"${soak_s}s" -s "$work/existing.lua" \
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
