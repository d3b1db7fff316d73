#!/usr/bin/env bash
# Train (or resume) the two v4 teachers (FER+ votes + CK+) one after another, alone on the CPU (issue 34).
#   nohup training/configs/v4/run_teachers.sh RUNS_DIR > RUNS_DIR/teachers.log 2>&1 &
# Run it again after a stop or a restart: finished teachers are skipped, a started one resumes.
set -u
cd "$(dirname "$0")/../../.."
RUNS="${1:?usage: run_teachers.sh RUNS_DIR}"
DATA=(--data ../shared/datasets/ferplus.zip --data ../shared/datasets/ckplus48.zip)
mkdir -p "$RUNS"
for t in teacher_a teacher_c; do
  out="$RUNS/$t"
  if [ -f "$out/done" ]; then echo "$t: done"; continue; fi
  if [ -f "$out/last.pt" ]; then
    fer-train --resume "$out" --no-progress > "$out/events.jsonl.part" 2> "$out/stderr.log"
  else
    mkdir -p "$out"
    fer-train --config "training/configs/v4/$t.toml" "${DATA[@]}" --out "$out" --no-progress \
      > "$out/events.jsonl.part" 2> "$out/stderr.log"
  fi
  rc=$?
  cat "$out/events.jsonl.part" >> "$out/events.jsonl"; rm -f "$out/events.jsonl.part"
  if [ $rc -eq 0 ]; then touch "$out/done"; echo "$t: finished $(date)"; else echo "$t: exit $rc $(date)"; exit $rc; fi
done
