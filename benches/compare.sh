#!/usr/bin/env bash
# End-to-end benchmark of `labelaudit audit` against the read baseline and the Python peer.
#
# Usage: benches/compare.sh [ROWS...]        (default: 1000000 10000000)
# Env:   DATA=/tmp/labelaudit-bench          where batches are written (kept between runs)
#        PYTHON=python3                      interpreter for benches/python_pipeline.py
#        PYTHON_MAX_ROWS=1000000             largest batch the Python peer is run on
#        REPEAT=3                            audit runs per size (the median wall is kept)
#
# Batches come from `labelaudit simulate` (overlap 5, 5 labels, about rows / 500 annotators).
# Up to 10^6 rows a batch is one simulation; larger batches are made of independent 10^6-row
# shards (seeds 1, 2, ...), as a platform exporting several projects at once: the simulator's
# least-loaded assignment looks at every annotator for every item, which is quadratic at
# 20,000 annotators. Item and annotator names get a shard prefix that also makes rows as long
# as a real export's (about 85 bytes, the issue's 850 MB for 10^7 rows). Ingest is also
# measured on the same batch as JSONL, and as a CSV with every cell quoted and the columns
# in another order.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-/tmp/labelaudit-bench}
PYTHON=${PYTHON:-python3}
PYTHON_MAX_ROWS=${PYTHON_MAX_ROWS:-1000000}
REPEAT=${REPEAT:-3}
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1000000 10000000)
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }

cargo build --release --quiet
BIN=$PWD/target/release/labelaudit
mkdir -p "$DATA"

SHARD=1000000
gen() { # rows -> directory with annotations.csv, gold.csv, annotations.jsonl, annotations_quoted.csv
    local rows=$1 dir=$DATA/r$1
    if [ -s "$dir/annotations.csv" ] && [ -s "$dir/annotations.jsonl" ]; then
        quoted "$dir"; echo "$dir"; return
    fi
    mkdir -p "$dir"
    local shards=$(( rows > SHARD ? rows / SHARD : 1 ))
    local size=$(( rows > SHARD ? SHARD : rows ))
    echo "item,annotator,label,duration_s,submitted_at" > "$dir/annotations.csv"
    echo "item,label" > "$dir/gold.csv"
    for s in $(seq 1 "$shards"); do
        "$BIN" simulate --items $((size / 5)) --annotators $((size / 500)) --overlap 5 \
            --labels 5 --seed "$s" --out "$dir/shard" >&2
        # Ids as long as a real export's (about 85 bytes a row, 850 MB at 10^7 rows).
        awk -v i="p-2026q4-batch$s-" -v w="vendor-$s-" -F, \
            'NR > 1 { print i $1 "," w $2 "," $3 "," $4 "," $5 }' \
            "$dir/shard/annotations.csv" >> "$dir/annotations.csv"
        awk -v i="p-2026q4-batch$s-" -F, 'NR > 1 { print i $1 "," $2 }' \
            "$dir/shard/gold.csv" >> "$dir/gold.csv"
    done
    rm -rf "$dir/shard"
    # The same batch as JSONL, for the JSONL ingest measurement.
    awk -F, 'NR > 1 { printf "{\"item\":\"%s\",\"annotator\":\"%s\",\"label\":\"%s\",\"duration_s\":%s,\"submitted_at\":\"%s\"}\n", $1, $2, $3, $4, $5 }' \
        "$dir/annotations.csv" > "$dir/annotations.jsonl"
    quoted "$dir"
    echo "$dir"
}

quoted() { # directory -> the same batch with every cell quoted and the columns in another order
    [ -s "$1/annotations_quoted.csv" ] && return
    awk -F, 'NR == 1 { print "\"submitted_at\",\"label\",\"annotator\",\"duration_s\",\"item\""; next }
        { printf "\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"\n", $5, $3, $2, $4, $1 }' \
        "$1/annotations.csv" > "$1/annotations_quoted.csv"
}

secs() { # command... -> wall seconds of one run (output discarded)
    local t0 t1
    t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l | xargs printf '%.3f\n'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

ingest_secs() { # file -> wall seconds of the ingest stage (median of REPEAT)
    for _ in $(seq "$REPEAT"); do
        LABELAUDIT_TIMINGS=1 "$BIN" consensus --method majority-vote "$1" \
            2>&1 >/dev/null | awk '$2 == "ingest" { print $3 }'
    done | median
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "start load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %-8s %-9s %-13s %-8s %-8s %-9s %-10s %-9s %-12s %-13s %-9s\n' rows csv_MB audit_s \
    audit_min-max peak_MB cat_s ingest_s ingest/cat jsonl_cat jsonl_ingest quoted_ingest python_s
for rows in "${SIZES[@]}"; do
    dir=$(gen "$rows")
    csv=$dir/annotations.csv jsonl=$dir/annotations.jsonl quoted=$dir/annotations_quoted.csv
    mb=$(( $(stat -c %s "$csv") / 1000000 ))
    cat "$csv" "$jsonl" "$quoted" > /dev/null # warm the page cache
    cat_s=$(for _ in $(seq "$REPEAT"); do secs cat "$csv"; done | median)
    jcat_s=$(for _ in $(seq "$REPEAT"); do secs cat "$jsonl"; done | median)
    ing=$(ingest_secs "$csv")
    jing=$(ingest_secs "$jsonl")
    qing=$(ingest_secs "$quoted")
    walls=() peak=0
    for _ in $(seq "$REPEAT"); do
        "$TIME" -v -o "$dir/time.txt" "$BIN" audit --json --gold "$dir/gold.csv" "$csv" > "$dir/report.json"
        walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$dir/time.txt")")
        rss=$(awk -F': ' '/Maximum resident set size/ { print int($2 / 1024) }' "$dir/time.txt")
        [ "$rss" -gt "$peak" ] && peak=$rss
    done
    wall=$(printf '%s\n' "${walls[@]}" | median)
    range=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n '1p;$p' | paste -sd-)
    py=-
    if [ "$rows" -le "$PYTHON_MAX_ROWS" ] && "$PYTHON" -c 'import pandas, krippendorff, statsmodels, crowdkit' 2>/dev/null; then
        t0=$(date +%s.%N)
        "$PYTHON" benches/python_pipeline.py "$csv" "$dir/gold.csv" > "$dir/python.json"
        py=$(echo "$(date +%s.%N) - $t0" | bc -l | xargs printf '%.3f')
    fi
    ratio=-
    if [ "$(echo "$cat_s > 0" | bc -l)" = 1 ]; then
        ratio=$(echo "$ing / $cat_s" | bc -l | xargs printf '%.1f')
    fi
    printf '%-10s %-8s %-9s %-13s %-8s %-8s %-9s %-10s %-9s %-12s %-13s %-9s\n' "$rows" "$mb" "$wall" \
        "$range" "$peak" "$cat_s" "$ing" "$ratio" "$jcat_s" "$jing" "$qing" "$py"
    if [ "$py" != "-" ]; then
        echo "  python / labelaudit = $(echo "$py / $wall" | bc -l | xargs printf '%.1f')x (same batch, same run)"
    fi
done
echo "end load: $(cut -d' ' -f1-3 /proc/loadavg)"
