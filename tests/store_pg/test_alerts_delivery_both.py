"""Detection, the alert book, source health and the delivery outbox (kill -9 mid-send included)
on both backends: the tests of tests/alerts and tests/delivery, collected again here."""

from tests.alerts.test_baseline import (  # noqa: F401
    test_fallbacks_while_history_is_short,
    test_one_past_incident_does_not_raise_the_baseline,
    test_same_hour_of_week_is_the_baseline,
    test_unanalysed_posts_do_not_count,
)
from tests.alerts.test_detector import (  # noqa: F401
    cfg,
    steady,
    test_backtest_replays_without_writing,
    test_calm_stream_raises_nothing_for_days,
    test_crawl_volume_jump_is_not_an_incident,
    test_explanation_survives_in_the_store,
    test_level_grows_with_the_spike,
    test_low_share_does_not_alarm,
    test_min_count_keeps_a_small_county_quiet,
    test_no_repeat_while_open_then_escalation_notifies_again,
    test_resolves_when_back_to_baseline_then_cooldown,
    test_spike_opens_one_alert_per_scope_and_one_message,
    test_unanalysed_posts_are_not_counted,
)
from tests.alerts.test_health import (  # noqa: F401
    setup,
    test_disabled_source_is_not_watched,
    test_failing_runs_in_a_row_then_recovery,
    test_login_problem_is_yellow_at_once,
    test_silence_far_longer_than_usual,
)
from tests.delivery.test_outbox import (  # noqa: F401
    test_a_claim_held_by_a_live_process_is_not_stolen,
    test_backoff_doubles_and_then_gives_up_in_words,
    test_channel_removed_from_config_fails_in_words,
    test_email_arrives_as_html_and_text_with_a_stable_message_id,
    test_kill_during_delivery_then_restart_loses_nothing,
    test_no_channel_writes_one_eml_to_the_outbox,
    test_partly_refused_recipients_are_sent_and_noted,
    test_recipients_replace_the_url_to,
    test_rejected_recipient_is_recorded_in_words_and_not_retried,
    test_smtp_down_then_back_delivers_exactly_once,
)
