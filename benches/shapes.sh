#!/usr/bin/env bash
# Ingest and audit time of one batch written in the shapes real exports take: quoted cells
# with the columns reordered, a free-text column, a gold column, pandas-style timestamps,
# JSONL with nested metadata, multi-label and span answers, Toloka and MTurk results.
#
# Usage: benches/shapes.sh [ROWS]             (default: 1000000; the batch benches/compare.sh
#                                              writes, so run that first for ROWS)
# Env:   DATA=/tmp/labelaudit-bench          where compare.sh wrote the batch
#        BINS="old/labelaudit target/release/labelaudit"
#                                            builds to compare, run alternately (default: this
#                                            checkout's release build)
#        REPEAT=2                            rounds
#
# Cost: the shapes take about 20 times the batch's CSV on disk (about 16 GB at 10^7 rows, in
# $DATA/shapes<ROWS>), and at 10^7 the multi-label and span shapes take minutes each (their
# Dawid-Skene fit has one category per distinct answer; BENCHMARKS.md).
#
# Prints, per shape and build: the ingest stage's wall time, the audit's wall time and peak
# memory. Every build must give the same report for a shape (apart from the file's name):
# the script says so, or says DIFF.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-/tmp/labelaudit-bench}
ROWS=${1:-1000000}
REPEAT=${REPEAT:-2}
SRC=$DATA/r$ROWS
[ -s "$SRC/annotations.csv" ] || { echo "no batch at $SRC: run benches/compare.sh $ROWS first" >&2; exit 1; }
if [ -z "${BINS:-}" ]; then
    cargo build --release --quiet
    BINS=$PWD/target/release/labelaudit
fi
OUT=$DATA/shapes$ROWS
mkdir -p "$OUT"
CSV=$SRC/annotations.csv

write_shape() { # name -> writes $OUT/name from the canonical CSV (item,annotator,label,duration_s,submitted_at)
    local f=$OUT/$1
    [ -s "$f" ] && return
    case $1 in
    quoted.csv) awk -F, 'NR == 1 { print "\"submitted_at\",\"label\",\"annotator\",\"duration_s\",\"item\""; next }
            { printf "\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"\n", $5, $3, $2, $4, $1 }' "$CSV" > "$f" ;;
    comment.csv) awk -F, 'BEGIN { OFS = "," } NR == 1 { print $0 ",comment"; next }
            { print $0, "\"Looks fine, but see \"\"note " NR % 97 "\"\"\"" }' "$CSV" > "$f" ;;
    goldcol.csv) awk -F, 'NR == FNR { if (FNR > 1) g[$1] = $2; next } FNR == 1 { print $0 ",gold"; next }
            { print $0 "," (($1 in g) ? g[$1] : "") }' "$SRC/gold.csv" "$CSV" > "$f" ;;
    pandas_time.csv) awk -F, 'BEGIN { OFS = "," } NR > 1 { sub(/T/, " ", $5); sub(/Z$/, "+00:00", $5) } { print }' \
            "$CSV" > "$f" ;;
    nested.jsonl) awk -F, 'NR > 1 { printf "{\"item\":\"%s\",\"text\":\"Text of %s, with words.\",\"annotator\":\"%s\",\"label\":\"%s\",\"duration_s\":%s,\"submitted_at\":\"%s\",\"meta\":{\"source\":\"x\",\"tags\":[1,2]}}\n", $1, $1, $2, $3, $4, $5 }' \
            "$CSV" > "$f" ;;
    multilabel.csv) awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next }
            { n = NR % 4; if (n == 0) $3 = "\"[]\""; else if (n == 1) $3 = "\"[\"\"" $3 "\"\"]\"";
              else $3 = "\"[\"\"" $3 "\"\",\"\"L" (NR % 5) "\"\"]\""; print }' "$CSV" > "$f" ;;
    spans.jsonl) awk -F, 'NR > 1 { printf "{\"item\":\"%s\",\"annotator\":\"%s\",\"spans\":[{\"start\":%d,\"end\":%d,\"label\":\"%s\"}],\"text\":\"text %s\"}\n", $1, $2, NR % 7, NR % 7 + 3, $3, $1 }' \
            "$CSV" > "$f" ;;
    toloka.tsv) awk -F, 'BEGIN { OFS = "\t"; print "INPUT:item_id", "INPUT:text", "OUTPUT:result", "GOLDEN:result", "HINT:text",
              "ASSIGNMENT:link", "ASSIGNMENT:assignment_id", "ASSIGNMENT:worker_id", "ASSIGNMENT:status",
              "ASSIGNMENT:started", "ASSIGNMENT:submitted" }
            NR > 1 { t = $5; sub(/Z$/, "", t); print $1, "Text of " $1 ", long enough to look real.", $3, "", "",
              "https://platform.toloka.ai/task/1/" NR, "a" NR, $2, "APPROVED", t, t }' "$CSV" > "$f" ;;
    mturk.csv) { head -1 fixtures/formats/mturk_batch_results.csv
            awk -F, 'NR > 1 { printf "\"%s\",\"3TYPE\",\"Review sentiment\",\"Read a review, pick its sentiment\",\"sentiment\",\"$0.05\",\"Thu May 02 02:00:00 PDT 2024\",\"5\",\"BatchId:5012345;\",\"600\",\"259200\",\"Thu May 09 02:00:00 PDT 2024\",\"\",\"604800\",\"A%d\",\"%s\",\"Approved\",\"Thu May 02 03:00:53 PDT 2024\",\"Thu May 02 03:01:10 PDT 2024\",\"Sun May 05 03:01:10 PDT 2024\",\"Thu May 02 08:01:10 PDT 2024\",\"\",\"\",\"%d\",\"100%% (25/25)\",\"100%% (25/25)\",\"100%% (4/4)\",\"%s\",\"Some text, with a comma.\",\"\",\"%s\",\"\",\"\"\n", $1, NR, $2, int($4), $1, $3 }' "$CSV"
        } > "$f" ;;
    esac
}

SHAPES=(quoted.csv comment.csv goldcol.csv pandas_time.csv nested.jsonl multilabel.csv spans.jsonl toloka.tsv mturk.csv)
for s in "${SHAPES[@]}"; do write_shape "$s"; done
cat "$CSV" "${SHAPES[@]/#/$OUT/}" > /dev/null # warm the page cache

printf '%-16s %-8s %-28s %-9s %-9s %-8s %s\n' shape MB build ingest_s audit_s peak_MB report
for _ in $(seq "$REPEAT"); do
    for s in canonical.csv "${SHAPES[@]}"; do
        f=$OUT/$s gold=()
        [ "$s" = canonical.csv ] && f=$CSV
        case $s in canonical.csv | quoted.csv | comment.csv | pandas_time.csv) gold=(--gold "$SRC/gold.csv") ;; esac
        first=
        for bin in $BINS; do
            LABELAUDIT_TIMINGS=1 /usr/bin/time -f 'TIME %e %M' "$bin" audit --json "${gold[@]}" "$f" \
                > "$OUT/report.json" 2> "$OUT/stderr.txt" || true
            ingest=$(awk '$1 == "timing" && $2 == "ingest" { print $3 }' "$OUT/stderr.txt")
            read -r wall peak < <(awk '$1 == "TIME" { print $2, int($3 / 1024) }' "$OUT/stderr.txt")
            same=-
            if [ -z "$first" ]; then
                first=$OUT/first.json
                cp "$OUT/report.json" "$first"
            elif cmp -s "$first" "$OUT/report.json"; then
                same=same
            else
                same=DIFF
            fi
            printf '%-16s %-8s %-28s %-9s %-9s %-8s %s\n' "$s" "$(( $(stat -c %s "$f") / 1000000 ))" \
                "$bin" "${ingest:--}" "$wall" "$peak" "$same"
        done
    done
done
