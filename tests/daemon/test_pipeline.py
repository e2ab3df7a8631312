"""The pipeline worker: stages touching analysis/alert state never overlap; requests coalesce."""

from __future__ import annotations

import threading
import time

from yuqing.daemon.pipeline import Pipeline


def test_tasks_never_run_at_the_same_time() -> None:
    pipeline = Pipeline().start()
    active, peak, runs = [0], [0], []
    guard = threading.Lock()

    def task(name: str) -> None:
        with guard:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        runs.append(name)
        with guard:
            active[0] -= 1

    def submitter(i: int) -> None:
        for j in range(5):
            pipeline.submit(f"t{i}-{j}", lambda n=f"t{i}-{j}": task(n))
            time.sleep(0.005)

    threads = [threading.Thread(target=submitter, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert pipeline.wait_idle(10)
    assert peak[0] == 1
    assert sorted(runs) == sorted(f"t{i}-{j}" for i in range(4) for j in range(5))
    assert pipeline.stop(5)


def test_a_waiting_key_coalesces_but_a_running_one_is_queued_again() -> None:
    pipeline = Pipeline().start()
    started, release, count = threading.Event(), threading.Event(), [0]

    def slow() -> None:
        count[0] += 1
        started.set()
        release.wait(5)

    assert pipeline.submit("pipeline", slow)
    assert started.wait(5)
    # while it runs: one more run is queued, further requests fold into it
    assert pipeline.submit("pipeline", slow)
    assert not pipeline.submit("pipeline", slow)
    assert not pipeline.submit("pipeline", slow)
    assert pipeline.pending() == ["pipeline"]
    release.set()
    assert pipeline.wait_idle(5)
    assert count[0] == 2
    pipeline.stop(5)


def test_a_failing_task_does_not_stop_the_worker(caplog) -> None:
    pipeline = Pipeline().start()
    done = threading.Event()
    pipeline.submit("bad", lambda: 1 / 0)
    pipeline.submit("good", done.set)
    assert done.wait(5)
    assert "pipeline task 'bad' failed" in caplog.text
    assert "ZeroDivisionError" in caplog.text
    pipeline.stop(5)


def test_stop_waits_for_the_running_task_and_drops_the_waiting_ones() -> None:
    pipeline = Pipeline().start()
    started, finished, ran_later = threading.Event(), threading.Event(), threading.Event()

    def running() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    pipeline.submit("running", running)
    pipeline.submit("waiting", ran_later.set)
    assert started.wait(5)
    assert pipeline.stop(5)
    assert finished.is_set()  # the running task was allowed to finish its transaction
    assert not ran_later.is_set()  # the waiting one was dropped (its work is found again at next start)
    assert not pipeline.submit("after", ran_later.set)


def test_stop_reports_a_task_that_does_not_finish_in_time() -> None:
    pipeline = Pipeline().start()
    started, release = threading.Event(), threading.Event()
    pipeline.submit("stuck", lambda: (started.set(), release.wait(5)))
    assert started.wait(5)
    assert pipeline.stop(0.2) is False
    assert pipeline.busy == "stuck"
    release.set()
