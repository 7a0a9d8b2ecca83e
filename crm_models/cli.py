"""``crm-models``: score customers and resolve records from the shell.

Usage::

    crm-models                                   # the bundled simulated company, end to end -> crm_output/
    crm-models demo --out-dir results/           # the same, into another folder
    crm-models score TRANSACTIONS.csv --customer-id-col cust --datetime-col day --monetary-value-col value \\
        --horizon 6M --discount-rate 0.1/Y --out scores.csv --report report.html
    crm-models resolve RECORDS.csv --out crosswalk.csv
    crm-models resolve NEW_BATCH.csv --register customers.duckdb --column email=mail --column identifier=loyalty_no

Every error is one line on stderr and exit code 2; progress bars go to stderr.

Files are safe: every output location is checked before any work starts (its folder exists and
is writable, it is not the input); an existing output is replaced only with ``--overwrite`` (the
input never is); outputs are written atomically (a temporary file renamed into place), so an
interrupted run leaves no half file. Id columns are read as text, exactly as written ("00021"
stays "00021", and is another customer than "21"), and written back the same way.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from pathlib import Path

import pandas as pd

from crm_models.errors import DataError

__all__ = ["main"]

NBA_RULES = (
    "Next best action: the eligible action with the highest expected value = P(effect) x value at stake - cost "
    "(crm_models.customize.default_action_table): retain if 0.3 <= P(alive) < 0.8 (stake CLV x (1 - P(alive))), "
    "cross_sell if P(alive) >= 0.8 (stake a share of CLV), win_back if P(alive) < 0.3 (stake CLV / P(alive)), "
    "serve_at_lower_cost if CLV is below the cost to serve; do_nothing when no action promises a positive value."
)


#: Library argument names as the command line spells them, for error messages.
_OPTION_NAMES = {
    "datetime_format=": "--datetime-format ",
    "Pass datetime_format": "Pass --datetime-format",
    "pass datetime_format": "pass --datetime-format",
    "Pass after_end='drop' to leave them out explicitly, or move the end of observation.":
        "Cut the log at --observation-period-end first, or move the end of observation.",
    "purchase_horizon": "--purchase-horizon",
    "discount_rate": "--discount-rate",
    "observation_period_end": "--observation-period-end",
    "cost_to_serve": "--cost-to-serve",
    "datetime_format": "--datetime-format",
    "overwrite=True (--overwrite on the command line)": "--overwrite",
}

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]+)\s*$")
_RATE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(?:/|per)\s*([A-Za-z]+)\s*$")


def _duration(text: str) -> tuple[float, str]:
    """``"12M"`` or ``"91 D"`` as the ``(length, unit)`` pair of :mod:`crm_models.units`."""
    from crm_models.units import as_duration

    m = _DURATION.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a length of time such as 12M, 13W or 91D")
    try:
        return tuple(as_duration((float(m.group(1)), m.group(2)), "length of time"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate(text: str) -> tuple[float, str]:
    """``"0.10/Y"`` or ``"0.01 per M"`` as the ``(rate, unit)`` pair of :mod:`crm_models.units`."""
    from crm_models.units import as_discount_rate

    m = _RATE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate per period such as 0.10/Y or 0.01/M")
    try:
        return tuple(as_discount_rate((float(m.group(1)), m.group(2))))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class CliError(Exception):
    """An error shown to the user as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        raise CliError(f"{message} (see '{self.prog} --help')")


def _options(text: str) -> str:
    """Library argument names in ``text`` spelled as the command line spells them."""
    for python_name, option in _OPTION_NAMES.items():
        text = text.replace(python_name, option)
    return text


def _one_line(message) -> str:
    """An error as one line.

    A :class:`~crm_models.errors.DataError` is formatted from its fields: the rule, how many rows
    break it, the CSV lines of the first offending rows (row ``i`` of a file read with the default
    index is on line ``i + 2``) and the hint. Other errors give their first line.
    """
    if isinstance(message, DataError):
        subject = f"column '{message.column}' " if message.column is not None else ""
        text = f"{message.what}: {subject}{message.rule}"
        if message.n_rows:
            of = f" of {message.n_total:,}" if message.n_total is not None else ""
            text += f"; {message.n_rows:,}{of} rows break this rule"
        rows = message.rows
        if rows is not None and len(rows) and pd.api.types.is_integer_dtype(rows.index):
            text += "; first offending CSV line(s): " + ", ".join(str(int(i) + 2) for i in rows.index[:5])
        if message.hint:
            text += ". " + message.hint.strip().splitlines()[0]
        return _options(text)
    lines = [ln for ln in _options(str(message)).splitlines() if ln.strip()]
    return lines[0].rstrip() if lines else "unknown error"


#: What pandas reads as missing by default; id columns read only an empty cell as missing.
_CSV_MISSING = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


def _read_csv(path: str, what: str, text_columns=()) -> pd.DataFrame:
    """Read a CSV; ``text_columns`` (ids) are read as text exactly as written: "00021" stays "00021"
    and is never merged with "21", and only an empty cell is a missing id ("NA" is an id)."""
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{what} file not found: {path}")
    try:
        header = list(pd.read_csv(p, nrows=0).columns)
        text = [c for c in text_columns if c in header]
        df = pd.read_csv(p, dtype={c: str for c in text}, keep_default_na=False,
                         na_values={c: ([""] if c in text else _CSV_MISSING) for c in header})
    except pd.errors.EmptyDataError:
        raise CliError(f"{what} file {path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CliError(f"{what} file {path} is not a readable CSV: {_one_line(exc)}") from None
    if df.empty:
        raise CliError(f"{what} file {path} has a header but no rows")
    return df


def _check_columns(df: pd.DataFrame, path: str, wanted: dict[str, str]) -> None:
    """``wanted`` maps option name -> column name."""
    for option, col in wanted.items():
        if col not in df.columns:
            raise CliError(
                f"column '{col}' (given by {option}) is not in {path}; its columns are: "
                + ", ".join(map(str, df.columns))
            )


def _check_outputs(outputs: dict, *, overwrite: bool, inputs=()) -> dict:
    """Check every output before any work: ``{what: path}`` -> ``{what: Path}`` (None skipped).

    Each folder must exist and be writable; no output may be an input or be named twice; an
    existing file is replaced only with ``--overwrite``.
    """
    from crm_models._files import check_outputs

    try:
        return check_outputs(outputs, overwrite=overwrite, inputs=inputs)
    except OSError as exc:
        raise CliError(_one_line(exc)) from None


def _write_csv(path, frame: pd.DataFrame, **to_csv) -> Path:
    """Write ``frame`` to ``path`` atomically (a temporary file renamed into place): an interrupted
    run leaves the old file or the new one, never half a file."""
    from crm_models._files import write_atomic

    return write_atomic(path, lambda tmp: frame.to_csv(tmp, **to_csv))


def _score_outputs(args) -> dict:
    """The files ``score`` (and ``demo``) write, checked together before any work."""
    return {"scores": args.out, "report": args.report}


# ----------------------------------------------------------------------------------------------
# subcommands
# ----------------------------------------------------------------------------------------------


def _score_frame(tx: pd.DataFrame, args, *, customer_id_col: str, datetime_col: str, monetary_value_col: str,
                 source: str):
    from crm_models._validation import parse_datetimes
    from crm_models.measure import cohort_retention
    from crm_models.pipeline import CustomerScorer
    from crm_models.report import example_customers, write_report

    inputs = [getattr(args, "transactions", None)]
    _check_outputs(_score_outputs(args), overwrite=args.overwrite, inputs=inputs)  # before the long work
    tx = tx.copy()  # dates parsed once, with the stated format, for every step below
    tx[datetime_col] = parse_datetimes(tx, datetime_col, fmt=args.datetime_format, what="transactions")
    scorer = CustomerScorer(
        customer_id_col=customer_id_col,
        datetime_col=datetime_col,
        monetary_value_col=monetary_value_col,
        horizon=args.horizon,
        discount_rate=args.discount_rate,
        margin=args.margin,
        cost_to_serve=args.cost_to_serve,
        transaction_model=args.transaction_model,
    )
    scores = scorer.fit_transform(tx, observation_period_end=args.observation_period_end,
                                  progress=not args.no_progress)
    _print_model_choice(scorer)
    written = []
    out = _write_csv(args.out, scores, float_format="%.6g")
    written.append(out)
    if args.report:
        report = Path(args.report)
        obs_end = scorer.observation_period_end_.date()
        cohorts = cohort_retention(tx, customer_id_col=customer_id_col, datetime_col=datetime_col)
        summary = scorer.summary()
        write_report(
            report,
            scores,
            overwrite=args.overwrite,
            title="Customer scores",
            source=f"{source}; {len(tx):,} transactions; observation end {obs_end}",
            models=summary,
            cohorts=cohorts,
            backtest=scorer.backtest_,
            model_choice=scorer.model_choice_,
            explanations=[scorer.explain(scores, c) for c in example_customers(scores)],
            notes=[
                *summary.notes,
                f"CLV horizon {summary.stats['Horizon']}; margin {args.margin:g} of spend; discount rate "
                f"{summary.stats['Discount rate']}.",
                "RFM scores 1-5 by quintile (5 = most recent / most frequent / highest total spend); named segments "
                "from crm_models.segment's default rule table.",
                NBA_RULES,
            ],
        )
        written.append(report)
    return scores, written


def _print_model_choice(scorer) -> None:
    """The backtest table and the chosen transaction model, on stdout."""
    if scorer.backtest_ is not None:
        metrics = ["mae_purchases", "rmse_purchases", "mae_spend", "auc", "brier", "top_decile_lift"]
        table = scorer.backtest_.summary(metrics=metrics).to_frame()
        table = table[[m for m in metrics if m in table]]
        print(f"backtest ({len(scorer.backtest_.cutoffs)} cut-offs, holdout {scorer.backtest_.holdout}; "
              "means over cut-offs):")
        print(table.round(3).to_string())
    print(f"transaction model: {scorer.model_choice_}")


def _cmd_score(args) -> list[Path]:
    _check_outputs(_score_outputs(args), overwrite=args.overwrite, inputs=[args.transactions])
    tx = _read_csv(args.transactions, "transactions", text_columns=[args.customer_id_col])
    _check_columns(
        tx,
        args.transactions,
        {"--customer-id-col": args.customer_id_col, "--datetime-col": args.datetime_col,
         "--monetary-value-col": args.monetary_value_col},
    )
    _, written = _score_frame(
        tx,
        args,
        customer_id_col=args.customer_id_col,
        datetime_col=args.datetime_col,
        monetary_value_col=args.monetary_value_col,
        source=f"from {args.transactions}",
    )
    return written


def _resolver():
    try:
        from crm_models.identify import resolve_customers
    except ImportError as exc:
        raise CliError(f"record resolution needs crm_models.identify, which cannot be imported here ({exc}); "
                       "reinstall with: pip install -e .") from None
    return resolve_customers


def _column_roles(pairs: list[str] | None) -> dict | None:
    """``--column role=name`` options as the ``columns`` mapping (``identifier`` may repeat)."""
    if not pairs:
        return None
    from crm_models.identify import ROLES

    out: dict = {}
    for text in pairs:
        role, sep, name = text.partition("=")
        role, name = role.strip(), name.strip()
        if not sep or not name or role not in ROLES:
            raise CliError(f"--column {text!r}: expected ROLE=COLUMN with ROLE one of {', '.join(ROLES)}")
        if role == "identifier":
            out.setdefault("identifier", []).append(name)
        elif role in out:
            raise CliError(f"--column gives role {role!r} twice ({out[role]!r} and {name!r})")
        else:
            out[role] = name
    return out


def _cmd_resolve(args) -> list[Path]:
    outputs = _check_outputs({"crosswalk": args.out, "golden records": args.golden}, overwrite=args.overwrite,
                             inputs=[args.records])
    records = _read_csv(args.records, "records", text_columns=[args.record_id_col])
    wanted = {"--record-id-col": args.record_id_col}
    if args.source_col:
        wanted["--source-col"] = args.source_col
    _check_columns(records, args.records, wanted)
    columns = _column_roles(args.column)
    if args.register:
        return _resolve_into_register(records, args, columns, outputs)
    resolve_customers = _resolver()
    result = _resolve(resolve_customers, records, args.record_id_col, args.source_col or None, args.no_progress,
                      columns)
    written = [_write_csv(outputs["crosswalk"], result.crosswalk)]
    if args.golden:
        written.append(_write_csv(outputs["golden records"], result.golden))
    print(f"{result.n_records:,} records resolved to {result.n_customers:,} customers", file=sys.stderr)
    return written


def _resolve(resolve_customers, records, record_id_col, source_col, no_progress, columns=None):
    """resolve_customers behind a one-step progress bar (linkage has no inner progress to report)."""
    from tqdm.auto import tqdm

    with tqdm(total=1, desc=f"resolving {len(records):,} records", file=sys.stderr, disable=no_progress, leave=False) as bar:
        result = resolve_customers(records, record_id_col=record_id_col, source_col=source_col, columns=columns)
        bar.update(1)
    return result


def _resolve_into_register(records, args, columns, outputs) -> list[Path]:
    """Add a batch to a register file (created if absent); write the batch's crosswalk (and golden records).

    The register is meant to be added to, so an existing one is opened, never replaced; it may
    not be one of the input or output files."""
    from tqdm.auto import tqdm

    from crm_models.identify import CustomerRegister

    # the register's folder must exist and be writable, and the file is no input or output
    _check_outputs({"register": args.register, **{k: v for k, v in outputs.items() if v is not None}},
                   overwrite=True, inputs=[args.records])
    out, golden = outputs["crosswalk"], outputs.get("golden records")
    with CustomerRegister(args.register) as register, tqdm(
            total=1, desc=f"adding {len(records):,} records to {args.register}", file=sys.stderr,
            disable=args.no_progress, leave=False) as bar:
        update = register.add(records, record_id_col=args.record_id_col, source_col=args.source_col or None,
                              columns=columns, retrain=args.retrain, label=Path(args.records).name)
        bar.update(1)
        written = [_write_csv(out, update.crosswalk)]
        if golden is not None:
            written.append(_write_csv(golden, register.golden()))
        print(f"{update.n_records:,} records: {update.n_already:,} already registered, {update.n_joined:,} joined "
              f"existing customers, {update.n_new_customers:,} new customers; the register holds "
              f"{register.n_records:,} records of {register.n_customers:,} customers", file=sys.stderr)
    return written


def _cmd_demo(args) -> list[Path]:
    try:
        from crm_models.datasets import load_crm_world
    except ImportError:
        raise CliError("the bundled simulated company needs crm_models.datasets.load_crm_world, which is missing") from None
    resolve_customers = _resolver()
    folder = Path(args.out_dir)
    if folder.exists() and not folder.is_dir():
        raise CliError(f"--out-dir {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot make the output folder {folder}: {_one_line(exc)}") from None
    args.out = folder / "scores.csv"
    args.report = folder / "report.html"
    _check_outputs({"crosswalk": folder / "crosswalk.csv", "golden records": folder / "golden_records.csv",
                    **_score_outputs(args)}, overwrite=args.overwrite)
    world = load_crm_world()
    result = _resolve(resolve_customers, world.records, "record_id", "source", args.no_progress)
    cw = result.crosswalk.reset_index()
    tx = world.transactions.merge(cw[["record_id", "customer_id"]], on="record_id", how="left", validate="many_to_one")
    if tx["customer_id"].isna().any():
        raise CliError(f"{int(tx['customer_id'].isna().sum())} transactions have a record id missing from the crosswalk")
    _write_csv(folder / "crosswalk.csv", cw, index=False)
    _write_csv(folder / "golden_records.csv", result.golden)
    _, written = _score_frame(
        tx,
        args,
        customer_id_col="customer_id",
        datetime_col="timestamp",
        monetary_value_col="amount",
        source=f"bundled simulated company: {len(world.records):,} records from "
        f"{world.records['source'].nunique()} systems resolved to {cw['customer_id'].nunique():,} customers",
    )
    return [folder / "crosswalk.csv", folder / "golden_records.csv", *written]


# ----------------------------------------------------------------------------------------------
# parser and entry point
# ----------------------------------------------------------------------------------------------


def _add_scoring_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--observation-period-end", default=None,
                   help="end of the observation period, an ISO date (default: the last purchase)")
    p.add_argument("--datetime-format", default=None,
                   help="strftime format of the whole date column, e.g. %%d/%%m/%%Y (default: ISO 8601 only; "
                   "other spellings are refused, never guessed)")
    p.add_argument("--horizon", type=_duration, default=(12.0, "M"),
                   help="CLV and expected-purchase horizon: a length and a unit of h, D, W, M (365.25/12 days), "
                   "Q or Y, e.g. 12M (default) or 26W")
    p.add_argument("--discount-rate", type=_rate, default=(0.10, "Y"),
                   help="CLV discount rate per period, e.g. 0.10/Y (default, 10%% a year) or 0.01/M")
    p.add_argument("--margin", type=float, default=1.0, help="share of spend kept as margin in CLV, in (0, 1] (1.0)")
    p.add_argument("--cost-to-serve", type=float, default=0.0,
                   help="cost of serving a customer over the horizon, money >= 0; CLV below it makes "
                   "serve_at_lower_cost eligible (0)")
    p.add_argument("--transaction-model", default="auto", choices=["auto", "BG/NBD", "MBG/NBD", "Pareto/NBD"],
                   help="model of purchasing and dropping out; auto (default) backtests the three on the log and "
                   "takes the best (the report shows the backtest)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_overwrite_option(p)


def _add_overwrite_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--overwrite", action="store_true",
                   help="replace output files that exist (never the input); by default they are kept and the run stops")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crm-models",
        description="Customer scores (RFM, P(alive), CLV, next best action) and record resolution. "
        "With no arguments: run on the bundled simulated company and write crm_output/.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("score", help="score customers from a transaction CSV")
    s.add_argument("transactions", help="CSV with one row per transaction")
    s.add_argument("--customer-id-col", default="customer_id")
    s.add_argument("--datetime-col", default="timestamp")
    s.add_argument("--monetary-value-col", default="amount")
    s.add_argument("--out", default="scores.csv", help="per-customer scores CSV (scores.csv)")
    s.add_argument("--report", default=None, help="also write a self-contained HTML report here")
    _add_scoring_options(s)

    r = sub.add_parser("resolve", help="resolve a records CSV to customers")
    r.add_argument("records", help="CSV with record id, source and contact columns")
    r.add_argument("--record-id-col", default="record_id")
    r.add_argument("--source-col", default="source", help="source-system column; '' for a single system")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.add_argument("--out", default="crosswalk.csv", help="record -> customer crosswalk CSV (crosswalk.csv)")
    r.add_argument("--golden", default=None, help="also write the golden records here")
    _add_overwrite_option(r)
    r.add_argument("--column", action="append", metavar="ROLE=COLUMN",
                   help="which column plays which role, e.g. email=mail, postcode=zip, identifier=loyalty_no "
                   "(repeat it; identifier may repeat); roles: first_name, last_name, full_name, email, phone, "
                   "date_of_birth, street, city, postcode, gender, loyalty_id, identifier, created_at")
    r.add_argument("--register", default=None, metavar="FILE.duckdb",
                   help="add the records to this customer register (created if absent) and link them to its "
                   "customers with its saved model; --out gets the batch's crosswalk, --golden the register's "
                   "golden records")
    r.add_argument("--retrain", action="store_true", help="with --register: train a new model version first")

    d = sub.add_parser("demo", help="the bundled simulated company end to end (the default)")
    d.add_argument("--out-dir", default="crm_output", help="output folder (crm_output)")
    _add_scoring_options(d)
    return parser


def _show_warnings(caught) -> None:
    """Each library warning (e.g. a small-data fallback) once, as one line on stderr."""
    seen = set()
    for w in caught:
        if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)) and str(w.message) not in seen:
            seen.add(str(w.message))
            print(f"crm-models: warning: {_one_line(w.message)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``); none runs the bundled simulated company.

    Returns
    -------
    int
        The exit code: 0 when everything was written, 2 after an error (one line on stderr).

    Examples
    --------
    >>> main(["score", "no_such_file.csv"])
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
            argv = ["demo", *argv]  # no command: the bundled simulated company
        args = parser.parse_args(argv)
        if args.command is None:
            raise CliError("choose a command: score, resolve or demo (see 'crm-models --help')")
        with warnings.catch_warnings(record=True) as caught:  # shown as one line each, like errors
            warnings.simplefilter("default")
            written = {"score": _cmd_score, "resolve": _cmd_resolve, "demo": _cmd_demo}[args.command](args)
        _show_warnings(caught)
    except CliError as exc:
        print(f"crm-models: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, KeyError, OSError) as exc:
        print(f"crm-models: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - a command line shows one line, never a traceback
        print(f"crm-models: error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
