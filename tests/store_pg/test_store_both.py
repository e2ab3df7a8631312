"""The store's behaviour tests (tests/test_store.py), run on SQLite and on PostgreSQL alike."""

from tests.test_store import (  # noqa: F401 - collected here a second time, with both backends
    test_chinese_full_text_search_hits_two_character_words,
    test_dedupe_by_canonical_url_then_content,
    test_failed_batch_leaves_nothing,
    test_posts_are_searchable_once_indexed,
    test_retention_removes_posts_and_index,
    test_runs_record_health_in_words,
    test_search_agrees_with_index_whatever_words_analysis_added,
    test_search_filters,
)
