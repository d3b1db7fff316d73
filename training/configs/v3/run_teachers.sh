#!/usr/bin/env bash
# Train (or resume) the three v3 teachers one after another, alone on the CPU (issue 17).
#   nohup training/configs/v3/run_teachers.sh RUNS_DIR > RUNS_DIR/teachers.log 2>&1 &
# Run it again after a stop or a restart: finished teachers are skipped, a started one resumes.
set -u
cd "$(dirname "$0")/../../.."
RUNS="${1:?usage: run_teachers.sh RUNS_DIR}"
# v4 runs this script with CONFIGS=v4, its teachers and FER+ (training/configs/v4/run_teachers.sh).
CONFIGS="${CONFIGS:-v3}"
DATA=(--data "../shared/datasets/${DATASET:-fer2013.zip}" --data ../shared/datasets/ckplus48.zip)
mkdir -p "$RUNS"
for t in ${TEACHERS:-teacher_a teacher_c teacher_b}; do
  out="$RUNS/$t"
  if [ -f "$out/done" ]; then echo "$t: done"; continue; fi
  if [ -f "$out/last.pt" ]; then
    fer-train --resume "$out" --no-progress > "$out/events.jsonl.part" 2> "$out/stderr.log"
  else
    mkdir -p "$out"
    fer-train --config "training/configs/$CONFIGS/$t.toml" "${DATA[@]}" --out "$out" --no-progress \
      > "$out/events.jsonl.part" 2> "$out/stderr.log"
  fi
  rc=$?
  cat "$out/events.jsonl.part" >> "$out/events.jsonl"; rm -f "$out/events.jsonl.part"
  if [ $rc -eq 0 ]; then touch "$out/done"; echo "$t: finished $(date)"; else echo "$t: exit $rc $(date)"; exit $rc; fi
done
