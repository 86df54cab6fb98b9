"""Strategies: one module per way of handing tasks to workers, each showing its one call.

``multiprocessing.Pool`` (:mod:`.apply`, :mod:`.apply_async`, :mod:`.map`,
:mod:`.starmap`, :mod:`.imap_unordered`), ``concurrent.futures`` (:mod:`.submit`,
:mod:`.futures_map`), joblib (:mod:`.joblib_parallel`), scikit-learn's own ``n_jobs``
(:mod:`.gridsearch`, :mod:`.cross_validate`, measured through :mod:`.sklearn_probe`),
Dask's client (:mod:`.dask_submit`, :mod:`.dask_map`), and the reference loop
(:mod:`.serial`). How they wait safely is in
:mod:`.waiting`; where their workers come from, in :mod:`foldrace.executors.backends`.
"""

from foldrace.executors.strategies.apply import ApplyExecutor
from foldrace.executors.strategies.apply_async import ApplyAsyncExecutor
from foldrace.executors.strategies.cross_validate import CrossValidateExecutor
from foldrace.executors.strategies.dask_map import DaskMapExecutor
from foldrace.executors.strategies.dask_submit import DaskSubmitExecutor
from foldrace.executors.strategies.futures_map import FuturesMapExecutor
from foldrace.executors.strategies.gridsearch import GridSearchExecutor
from foldrace.executors.strategies.imap_unordered import ImapUnorderedExecutor
from foldrace.executors.strategies.joblib_parallel import JoblibExecutor
from foldrace.executors.strategies.map import MapExecutor
from foldrace.executors.strategies.serial import SerialExecutor
from foldrace.executors.strategies.starmap import StarmapExecutor
from foldrace.executors.strategies.submit import SubmitExecutor

__all__ = [
    "ApplyAsyncExecutor",
    "ApplyExecutor",
    "CrossValidateExecutor",
    "DaskMapExecutor",
    "DaskSubmitExecutor",
    "FuturesMapExecutor",
    "GridSearchExecutor",
    "ImapUnorderedExecutor",
    "JoblibExecutor",
    "MapExecutor",
    "SerialExecutor",
    "StarmapExecutor",
    "SubmitExecutor",
]
