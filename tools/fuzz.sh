#!/usr/bin/env bash
# make fuzz: builds each fuzz target with libFuzzer and AddressSanitizer (its own build folder,
# .build-fuzz) and runs it for a bounded time from its committed seed corpus (fuzz/NAME/corpus);
# what it learns is kept in .build-fuzz/run/corpus-NAME. A crash or a failed property stops that
# target with the input written to .build-fuzz/run: add it to fuzz/NAME/corpus (a regression
# test: make test replays every corpus) and fix the cause.
# Usage: tools/fuzz.sh SECONDS TARGET...   (targets: json bridge config lua)
set -uo pipefail
seconds=$1; shift
swift=${SWIFT:-swift}
# SwiftPM's --sanitize fuzzer alone leaves Swift code without the coverage libFuzzer reads
# (inline 8-bit counters and a PC table), so the flags are spelled out for both languages.
flags=(--build-path .build-fuzz --sanitize fuzzer --sanitize address -Xswiftc -DFUZZING
       -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xcc -fsanitize=fuzzer-no-link)
mkdir -p .build-fuzz/run
failed=0
for target in "$@"; do
  if ! "$swift" build "${flags[@]}" --product "fuzz-$target" > ".build-fuzz/run/build-$target.log" 2>&1; then
    grep -E "error" ".build-fuzz/run/build-$target.log" | head -20
    echo "make fuzz: fuzz-$target did not build (.build-fuzz/run/build-$target.log)"; exit 2
  fi
  mkdir -p ".build-fuzz/run/corpus-$target"
  # The Lua target runs whole runbooks (about a millisecond each), so a slow input is a hang only past 30 s.
  (cd .build-fuzz/run && SWIFT_BACKTRACE=enable=no "../debug/fuzz-$target" -max_total_time="$seconds" -timeout=30 \
     -rss_limit_mb=4096 -artifact_prefix="./$target-" "corpus-$target" "../../fuzz/$target/corpus" > "$target.log" 2>&1)
  rc=$?
  executions=$(grep -E "^#[0-9]+" ".build-fuzz/run/$target.log" | tail -1)
  echo "fuzz-$target (${seconds} s): $executions"
  if [ $rc != 0 ]; then
    grep -E "Fatal error|ERROR|SUMMARY|Test unit written" ".build-fuzz/run/$target.log" | head -5
    echo "make fuzz: fuzz-$target found a failure (.build-fuzz/run/$target.log)"; failed=1
  fi
done
exit $failed
