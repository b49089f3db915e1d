#!/usr/bin/env bash
# Build the libFuzzer seed corpus from fixtures/: each file with the two control bytes that
# pick its own name/extension and auto-detection, so the fuzzer starts from valid inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus/ingest
mkdir -p "$out"
i=0
while IFS= read -r -d '' f; do
  case "$f" in
    *.csv) a='\x00' ;; *.tsv) a='\x01' ;; */doccano/*) a='\x04' ;; *.jsonl) a='\x02' ;;
    *.ndjson) a='\x05' ;; *.json) a='\x03' ;; *) a='\x06' ;;
  esac
  { printf "$a\\x00"; cat "$f"; } > "$out/seed-$i"
  i=$((i + 1))
done < <(find fixtures -type f ! -name '*.py' ! -name '*.md' -print0 | sort -z)
echo "$i seeds in $out"
