"""The analysis queue and its write-back (tests/analysis/test_batch.py) on both backends,
kill -9 mid-analysis included: nothing lost, nothing analysed twice."""

from tests.analysis.test_batch import (  # noqa: F401 - collected here a second time, with both backends
    test_a_failure_mid_run_keeps_committed_batches_and_loses_nothing,
    test_every_post_gets_analysis_and_an_event,
    test_killed_analyze_resumes_where_it_stopped,
    test_limit_and_incremental_runs,
)
