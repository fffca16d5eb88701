# GetMetricData JSON (one query per column: requests, errors[, slow][, failures], stable_*, canary_*) → simulator CSV.
# A Synthetics canary's SuccessPercent: give its query the Label "synthetics:<canary name>" (an Id cannot hold the colon).
(.MetricDataResults | map({key: (if ((.Label // "") | startswith("synthetics:")) then .Label else .Id end), value: ([.Timestamps, .Values] | transpose | map({key: .[0], value: .[1]}) | from_entries)}) | from_entries) as $m
| ($m | keys_unsorted) as $cols
| ([$m[] | keys[]] | unique) as $times
| (["timestamp"] + $cols | @csv),
  ($times[] as $t
   | [$t] + ($cols | map(. as $c
       | $m[$c][$t]
         // (if ($c | endswith("errors") or endswith("slow") or endswith("failures")) and ($m[$c | sub("(errors|slow|failures)$"; "requests")][$t] != null) then 0 else "" end)))
   | @csv)
