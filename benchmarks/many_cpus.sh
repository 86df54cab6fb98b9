#!/usr/bin/env bash
# The what-if predictor and the searches' race on a machine with many CPUs, recorded in
# one go: usage `bash benchmarks/many_cpus.sh OUTDIR [PYTHON]`. Writes the check table
# (whatif-check-many.md), the searches' table (search-race-many.md), the two what-if
# figures (PNG) and one archive with the SVGs and every race's results.
set -uo pipefail
out=${1:?an output folder}
python=${2:-python3}
size=${FOLDRACE_SIZE:-reference}  # small: a quick check of this script
mkdir -p "$out"
work=$(mktemp -d)
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
"$python" -c 'import os, sys, sklearn; print(sys.version.split()[0], "scikit-learn", sklearn.__version__, "cpus", len(os.sched_getaffinity(0)))'
cpus=$("$python" -c 'import os; print(len(os.sched_getaffinity(0)))')
counts=1; n=2
while [ "$n" -le "$cpus" ]; do counts="$counts,$n"; n=$((n * 2)); done
timeout 330 "$python" benchmarks/whatif_check.py --size "$size" --repeats 3 --workers "$counts" \
    --executors apply_async,map,starmap,submit \
    --markdown "$out/whatif-check-many.md" --figures "$work/figures" --results "$work/results"
echo "whatif_check: exit $?"
timeout 200 "$python" benchmarks/search_race.py --size "$size" --repeats 3 --markdown "$out/search-race-many.md"
echo "search_race: exit $?"
cp "$work"/figures/*.png "$out"/ 2>/dev/null
tar -czf "$out/many-cpus.tar.gz" -C "$work" .
