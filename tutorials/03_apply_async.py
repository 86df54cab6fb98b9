# %% [markdown]
# # Tutorial 03: `apply_async` with callbacks, and the task a callback alone can lose
#
# `apply_async` returns at once; all tasks are queued together and the workers take them
# as they become free. Results arrive in *completion* order, through a callback that runs
# in the pool's result thread. A task that raises never calls the callback: without an
# `error_callback` it is silently missing.
#
# Run: `python tutorials/03_apply_async.py`

# %%
from __future__ import annotations

import multiprocessing as mp

from foldrace import FoldTaskError, Workload, benchmark_fold, get_executor
from foldrace.testing import FailingClassifier, SlowClassifier, uneven_folds
from foldrace.workload import default_workload


# %%
def uneven_workload(n_samples: int = 600, estimator=None) -> Workload:
    """Three folds of very different cost: fold 0 trains on the most samples."""
    base = default_workload(n_samples=n_samples)
    folds = uneven_folds(n_samples, train_sizes=(n_samples // 2, n_samples // 6, n_samples // 12))
    model = estimator if estimator is not None else SlowClassifier(seconds_per_sample=5e-4)
    return Workload(base.X, base.y, {"slow": model}, folds=folds)


def main(n_samples: int = 600, fail_below: int | None = None) -> dict[str, object]:
    """Show completion order, fold ids, error_callback, and the silent loss.

    The failing model refuses to fit on fewer than ``fail_below`` samples (by default a
    tenth of ``n_samples``: fold 2 fails); ``fail_below=0`` makes every fold succeed.
    """
    fail_below = n_samples // 10 if fail_below is None else fail_below
    # --8<-- [start:callbacks]
    workload = uneven_workload(n_samples)
    tasks = workload.tasks()

    arrived = []  # (fold, result) in the order results arrive
    failures = []

    def on_result(result):  # runs in the pool's result thread
        arrived.append((result.fold, result))

    def on_error(error):
        failures.append(error)

    with mp.Pool(processes=2) as pool:
        pending = [
            pool.apply_async(
                benchmark_fold,
                (*workload.common_args, task),
                callback=on_result,
                error_callback=on_error,
            )
            for task in tasks
        ]
        for handle in pending:
            handle.wait(timeout=60)  # never wait forever
    completion_order = [fold for fold, _ in arrived]
    in_fold_order = [result for _, result in sorted(arrived, key=lambda pair: pair[0])]
    # --8<-- [end:callbacks]
    print(
        f"completion order: {completion_order}; after sorting by fold id: "
        f"{[r.fold for r in in_fold_order]}; failures: {len(failures)}"
    )

    # --8<-- [start:silent_loss]
    failing = uneven_workload(n_samples, FailingClassifier(fail_below=fail_below))
    collected = []
    with mp.Pool(processes=2) as pool:
        pending = [
            pool.apply_async(
                benchmark_fold, (*failing.common_args, task), callback=collected.append
            )  # no error_callback
            for task in failing.tasks()
        ]
        for handle in pending:
            handle.wait(timeout=60)
    print(f"callback only: {len(failing.tasks())} tasks, {len(collected)} results, no error")
    print(f"in completion order: folds {[result.fold for result in collected]}")
    # --8<-- [end:silent_loss]

    # --8<-- [start:foldrace]
    try:
        executor = get_executor("apply_async")(2).bind(failing.common_args)
        with executor:  # has an error_callback
            executor.run(benchmark_fold, failing.tasks())
    except FoldTaskError as error:
        message = str(error)
        print(f"foldrace's apply_async raised: {message}")
    else:
        message = "every fold ran"
        print(f"foldrace's apply_async: {message}")
    # --8<-- [end:foldrace]
    return {
        "completion_order": completion_order,
        "sorted": [r.fold for r in in_fold_order],
        "lost": len(failing.tasks()) - len(collected),
        "message": message,
        "collected_order": [result.fold for result in collected],
    }


# %%
if __name__ == "__main__":
    main()
