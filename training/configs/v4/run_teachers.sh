#!/usr/bin/env bash
# Train (or resume) the two v4 teachers (FER+ votes + CK+) one after another, alone on the CPU (issue 34).
#   nohup training/configs/v4/run_teachers.sh RUNS_DIR > RUNS_DIR/teachers.log 2>&1 &
# Run it again after a stop or a restart: finished teachers are skipped, a started one resumes.
# The same runner as v3's, with v4's recipes, teachers and dataset.
exec env CONFIGS=v4 TEACHERS="teacher_a teacher_c" DATASET=ferplus.zip \
  "$(dirname "$0")/../v3/run_teachers.sh" "$@"
