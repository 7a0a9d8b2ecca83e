"""The errors crm_models raises, each carrying its structure so callers never parse text.

==========================  =====================================================================
:class:`DataError`          an input breaks a rule: ``.column``, ``.rule`` and ``.rows`` (a few
                            offending rows as a DataFrame, indexed as in the input)
:class:`NotFittedError`     a fitted attribute, prediction, summary or save was asked of an
                            estimator that has not been fitted (scikit-learn's own error class)
:class:`ConvergenceError`   maximum likelihood did not converge; the message says what to try
:class:`ModelFileError`     a saved file is not a valid crm_models file: ``.field`` and ``.rule``
==========================  =====================================================================

All but :class:`ConvergenceError` are ``ValueError`` subclasses, so ``except ValueError``
keeps working.
"""

from __future__ import annotations

import pandas as pd
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = ["DataError", "NotFittedError", "ConvergenceError", "ModelFileError", "N_SHOWN"]

#: How many offending rows an error keeps and shows.
N_SHOWN = 5


class DataError(ValueError):
    """Input data break a rule.

    Parameters
    ----------
    column : str or None
        The column (or argument) the rule is about.
    rule : str
        The rule, in words, as it completes "column '<column>' ...", e.g. ``"must not be missing"``.
    rows : pandas.DataFrame, optional
        Up to :data:`N_SHOWN` offending rows, indexed as in the input (a DataFrame read from a
        CSV file with the default index has row ``i`` on line ``i + 2``).
    n_rows : int, optional
        How many rows break the rule in all (defaults to ``len(rows)``).
    n_total : int, optional
        How many rows were checked.
    what : str
        Name of the input (``"transactions"``, ``"records"``...).
    hint : str
        What to do about it.
    message : str, optional
        The whole message, when the default "<what>: column '<column>' <rule>" does not read well.

    Examples
    --------
    >>> err = DataError("amount", "must not be negative", what="transactions")
    >>> str(err)
    "transactions: column 'amount' must not be negative"
    >>> (err.column, err.rule, err.rows)
    ('amount', 'must not be negative', None)
    """

    def __init__(
        self,
        column: str | None,
        rule: str,
        *,
        rows: pd.DataFrame | None = None,
        n_rows: int | None = None,
        n_total: int | None = None,
        what: str = "data",
        hint: str = "",
        message: str | None = None,
    ) -> None:
        self.column = column
        self.rule = rule
        self.rows = rows
        self.n_rows = n_rows if n_rows is not None else (None if rows is None else len(rows))
        self.n_total = n_total
        self.what = what
        self.hint = hint
        self._text = message
        super().__init__(self._message())

    def _message(self) -> str:
        if self._text is not None:
            msg = self._text
        elif self.column is not None:
            msg = f"{self.what}: column '{self.column}' {self.rule}"
        else:
            msg = f"{self.what} {self.rule}"
        if self.rows is not None and self.n_rows:
            of = f" of {self.n_total:,}" if self.n_total is not None else ""
            msg += f"; {self.n_rows:,}{of} rows break this rule, for example:\n{self.rows.to_string()}"
        if self.hint:
            msg += f"\n{self.hint}"
        return msg

    def __reduce__(self):  # keep the structure through pickling (multiprocessing, joblib)
        args = (self.column, self.rule, self.rows, self.n_rows, self.n_total, self.what, self.hint, self._text)
        return (_rebuild_data_error, args)


def _rebuild_data_error(column, rule, rows, n_rows, n_total, what, hint, message) -> DataError:
    return DataError(column, rule, rows=rows, n_rows=n_rows, n_total=n_total, what=what, hint=hint, message=message)


class NotFittedError(_SklearnNotFittedError):
    """An estimator was used before ``fit`` (a ``ValueError`` and ``AttributeError``, as in scikit-learn).

    Examples
    --------
    >>> from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    >>> issubclass(NotFittedError, SklearnNotFittedError)
    True
    """


class ConvergenceError(RuntimeError):
    """Maximum likelihood estimation did not converge; the message says what to try.

    Examples
    --------
    >>> issubclass(ConvergenceError, RuntimeError)
    True
    """


class ModelFileError(ValueError):
    """A saved estimator file is invalid: wrong format, version or class, or a field breaks its rule.

    Parameters
    ----------
    field : str
        The offending field, as a path into the JSON document (e.g. ``"fitted.params.r"``).
    rule : str
        The rule it breaks.
    source : str
        Where the document came from (a path), for the message.

    Examples
    --------
    >>> str(ModelFileError("fitted.params.r", "must be a positive number, got -1.0", source="bgnbd.json"))
    'bgnbd.json: field fitted.params.r must be a positive number, got -1.0'
    """

    def __init__(self, field: str, rule: str, *, source: str = "model file") -> None:
        self.field = field
        self.rule = rule
        self.source = source
        super().__init__(f"{source}: field {field} {rule}" if field else f"{source}: {rule}")

    def __reduce__(self):
        return (_rebuild_model_file_error, (self.field, self.rule, self.source))


def _rebuild_model_file_error(field, rule, source) -> ModelFileError:
    return ModelFileError(field, rule, source=source)
