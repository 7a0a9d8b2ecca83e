"""The crm-models command line, run in-process on small data: files, columns, messages, exit codes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from crm_models.cli import main
from crm_models.datasets import load_cdnow
from crm_models.pipeline import SCORE_COLUMNS


@pytest.fixture(scope="module")
def small_log() -> pd.DataFrame:
    """The first 400 CDNOW sample customers, with other column names and compact dates."""
    cd = load_cdnow(sample=True)
    keep = cd["customer_id"].drop_duplicates().head(400)
    cd = cd[cd["customer_id"].isin(keep)]
    return pd.DataFrame(
        {"cust": cd["customer_id"], "day": cd["timestamp"].dt.strftime("%Y-%m-%d"), "cds": cd["cds"], "value": cd["amount"]}
    ).reset_index(drop=True)


@pytest.fixture
def csv(tmp_path, small_log):
    def write(df=None, name="tx.csv"):
        path = tmp_path / name
        (small_log if df is None else df).to_csv(path, index=False)
        return str(path)

    return write


COLS = ["--customer-id-col", "cust", "--datetime-col", "day", "--monetary-value-col", "value", "--no-progress"]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("crm-models: error: "), err
    assert "\n" not in err and "Traceback" not in err
    return err


def test_score_writes_scores_and_report(tmp_path, csv, small_log, capsys):
    out, report = tmp_path / "scores.csv", tmp_path / "report.html"
    rc = main(["score", csv(), *COLS, "--out", str(out), "--report", str(report)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and f"wrote {report}" in printed
    scores = pd.read_csv(out, index_col=0)
    assert scores.index.name == "cust"
    assert list(scores.columns) == SCORE_COLUMNS
    assert len(scores) == small_log["cust"].nunique() == 400
    assert scores.index.is_unique
    assert scores[["p_alive", "expected_purchases", "clv"]].notna().all().all()
    assert scores["p_alive"].between(0, 1).all() and (scores["clv"] >= 0).all()
    assert set(scores["r_score"]) <= {1, 2, 3, 4, 5}
    assert set(scores["next_best_action"]) <= {"retain", "cross_sell", "win_back", "serve_at_lower_cost", "do_nothing"}
    assert (scores["action_expected_value"] >= 0).all()
    page = report.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 4
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    assert "<link" not in page.lower()
    assert "customer equity" in page and "Next best action" in page
    # the backtest and the chosen transaction model, printed and in the report
    assert "backtest (" in printed and "same as last period" in printed
    assert "transaction model: MBG/NBD" in printed or "transaction model: Pareto/NBD" in printed
    assert "Is the model right?" in page and "Customers explained" in page and "P(alive) at" in page
    # the one-line progress bar goes to stderr only when asked; here it was switched off
    assert capsys.readouterr().err == ""


def test_score_options_change_the_result(tmp_path, csv):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["score", csv(), *COLS, "--out", str(a)]) == 0
    assert main(["score", csv(), *COLS, "--out", str(b), "--horizon", "24M", "--margin", "0.3"]) == 0
    sa, sb = pd.read_csv(a, index_col=0), pd.read_csv(b, index_col=0)
    assert (sb["expected_purchases"] >= sa["expected_purchases"] - 1e-9).all()
    assert sb["clv"].sum() < sa["clv"].sum()  # 30% margin outweighs the longer horizon


def test_a_named_transaction_model_and_the_lapsed_segments_note(tmp_path, csv, capsys):
    report = tmp_path / "report.html"
    assert main(["score", csv(), *COLS, "--out", str(tmp_path / "s.csv"), "--report", str(report),
                 "--transaction-model", "BG/NBD"]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "crm-models: warning:" in captured.err and "BG/NBD's assumption" in captured.err  # the decision code says so
    assert "transaction model: BG/NBD, as set by transaction_model='BG/NBD'" in printed and "backtest (" not in printed
    page = report.read_text(encoding="utf-8")
    # BG/NBD puts the one-time buyers of 'Lost' at P(alive) = 1: the report says why
    assert "Why do lapsed-sounding segments look alive?" in page and "counts every one-time buyer as surely alive" in page


def test_score_with_date_format_and_progress(tmp_path, csv, small_log, capsys):
    df = small_log.assign(day=pd.to_datetime(small_log["day"]).dt.strftime("%Y%m%d"))
    out = tmp_path / "s.csv"
    cols = [c for c in COLS if c != "--no-progress"]
    assert main(["score", csv(df), *cols, "--datetime-format", "%Y%m%d", "--out", str(out)]) == 0
    assert "scoring customers" in capsys.readouterr().err  # tqdm on stderr
    assert len(pd.read_csv(out)) == 400


def test_wrong_column_lists_the_columns(csv, capsys):
    rc = main(["score", csv(), "--customer-id-col", "customer", "--datetime-col", "day", "--monetary-value-col", "value"])
    assert rc == 2
    err = one_line_error(capsys)
    assert "'customer' (given by --customer-id-col)" in err
    assert "its columns are: cust, day, cds, value" in err


def test_default_column_names_missing(csv, capsys):
    assert main(["score", csv()]) == 2
    assert "column 'customer_id' (given by --customer-id-col)" in one_line_error(capsys)


def test_bad_rows_name_column_and_csv_line(csv, small_log, capsys):
    bad = small_log.copy()
    bad.loc[5, "value"] = -3.0
    assert main(["score", csv(bad), *COLS]) == 2
    err = one_line_error(capsys)
    assert "'value' must not be negative" in err and "first offending CSV line(s): 7" in err

    bad = small_log.copy()
    bad.loc[[2, 9], "day"] = "not a date"
    assert main(["score", csv(bad), *COLS]) == 2
    err = one_line_error(capsys)
    assert "'day' must hold parseable dates" in err and "4, 11" in err

    numeric = small_log.assign(day=pd.to_datetime(small_log["day"]).dt.strftime("%Y%m%d").astype(int))
    assert main(["score", csv(numeric), *COLS]) == 2
    assert "pass --datetime-format" in one_line_error(capsys).lower()


def test_file_and_option_errors(tmp_path, csv, capsys):
    assert main(["score", str(tmp_path / "nope.csv"), *COLS]) == 2
    assert "transactions file not found" in one_line_error(capsys)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["score", str(empty), *COLS]) == 2
    assert "is empty" in one_line_error(capsys)
    header_only = tmp_path / "header.csv"
    header_only.write_text("cust,day,value\n")
    assert main(["score", str(header_only), *COLS]) == 2
    assert "no rows" in one_line_error(capsys)
    assert main(["score", csv(), *COLS, "--out", str(tmp_path / "missing_dir" / "s.csv")]) == 2
    assert "does not exist" in one_line_error(capsys)
    assert main(["score", csv(), *COLS, "--horizon", "0M"]) == 2
    assert "--horizon: length of time: the length must be > 0" in one_line_error(capsys)
    assert main(["score", csv(), *COLS, "--horizon", "twelve"]) == 2
    assert "'twelve' is not a length of time such as 12M" in one_line_error(capsys)
    assert main(["score", csv(), *COLS, "--horizon", "12 months"]) == 2
    assert "unit must be one of" in one_line_error(capsys)
    assert main(["score", csv(), *COLS, "--margin", "50"]) == 2
    assert "margin must be a number in (0, 1] (share of spend kept as profit)" in one_line_error(capsys)
    assert main(["score", csv(), *COLS, "--bogus"]) == 2
    assert "unrecognized arguments: --bogus" in one_line_error(capsys)
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in one_line_error(capsys)
    assert main(["score", csv(), *COLS, "--observation-period-end", "1997-02-01"]) == 2
    assert "observation" in one_line_error(capsys)


def test_too_few_customers(csv, small_log, capsys):
    tiny = small_log[small_log["cust"].isin(small_log["cust"].unique()[:5])]
    assert main(["score", csv(tiny), *COLS]) == 2
    assert "needs at least 20" in one_line_error(capsys)


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    assert "score" in capsys.readouterr().out


@pytest.fixture(scope="module")
def small_world():
    """The bundled world cut to its first 150 people: the same tables, a few hundred records."""
    from types import SimpleNamespace

    from crm_models.datasets import load_crm_world

    world = load_crm_world()
    people = world.record_truth["person_id"].drop_duplicates().head(150)
    records = world.records[world.records["record_id"].isin(world.record_truth.loc[
        world.record_truth["person_id"].isin(people), "record_id"])]
    transactions = world.transactions[world.transactions["record_id"].isin(records["record_id"])]
    return SimpleNamespace(records=records.reset_index(drop=True), transactions=transactions.reset_index(drop=True))


def test_resolve_writes_crosswalk(tmp_path, small_world, capsys):
    """The real resolver (Splink) behind the resolve command, on a small records file."""
    recs = small_world.records.rename(columns={"record_id": "rid"})
    path = tmp_path / "records.csv"
    recs.to_csv(path, index=False)
    out, golden = tmp_path / "cw.csv", tmp_path / "golden.csv"
    rc = main(["resolve", str(path), "--record-id-col", "rid", "--out", str(out), "--golden", str(golden), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    cw = pd.read_csv(out)
    assert list(cw.columns[:2]) == ["rid", "customer_id"]
    assert sorted(cw["rid"]) == sorted(recs["rid"])  # every record exactly once
    assert 140 <= cw["customer_id"].nunique() <= 170  # 150 real people
    assert len(pd.read_csv(golden)) == cw["customer_id"].nunique()
    assert "records resolved to" in capsys.readouterr().err
    assert main(["resolve", str(path), "--out", str(out), "--overwrite"]) == 2
    err = one_line_error(capsys)
    assert "column 'record_id' (given by --record-id-col)" in err and "rid" in err


def test_no_arguments_runs_the_simulated_company(tmp_path, monkeypatch, small_world, capsys):
    """The default command end to end on a cut of the bundled world, with the exact-key resolver
    (the full world with Splink takes ~20 s; its pieces are tested in their own modules)."""
    import crm_models.cli as cli
    import crm_models.datasets as datasets
    from crm_models.identify import resolve_exact

    monkeypatch.setattr(cli, "_resolver", lambda: resolve_exact)
    monkeypatch.setattr(datasets, "load_crm_world", lambda: small_world)
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    printed = capsys.readouterr().out
    folder = tmp_path / "crm_output"
    for name in ("crosswalk.csv", "golden_records.csv", "scores.csv", "report.html"):
        assert (folder / name).is_file() and f"wrote crm_output/{name}" in printed
    cw = pd.read_csv(folder / "crosswalk.csv")
    assert len(cw) == len(small_world.records)
    scores = pd.read_csv(folder / "scores.csv", index_col="customer_id")
    assert set(scores.index) <= set(cw["customer_id"]) and len(scores) >= 100
    assert list(scores.columns) == SCORE_COLUMNS
    assert "simulated company" in (folder / "report.html").read_text(encoding="utf-8")


def test_options_without_a_command_go_to_the_demo(monkeypatch, tmp_path):
    import crm_models.cli as cli

    seen = {}
    monkeypatch.setattr(cli, "_cmd_demo", lambda args: seen.update(vars(args)) or [])
    assert main(["--out-dir", str(tmp_path / "elsewhere"), "--no-progress"]) == 0
    assert seen["out_dir"] == str(tmp_path / "elsewhere") and seen["no_progress"]


def test_library_errors_speak_in_option_names(csv, capsys, tmp_path):
    assert main(["score", csv(), *COLS, "--discount-rate", "1.5/Y", "--out", str(tmp_path / "s.csv")]) == 2
    err = one_line_error(capsys)
    assert "argument --discount-rate: discount_rate: the rate must lie in [0, 1)" in err
    assert not (tmp_path / "s.csv").exists()


def test_unexpected_errors_are_one_line_too(csv, capsys, monkeypatch):
    import crm_models.pipeline as pipeline

    def boom(*args, **kwargs):
        raise RuntimeError("the optimiser did not converge\nsecond line")

    monkeypatch.setattr(pipeline.CustomerScorer, "fit", boom)
    assert main(["score", csv(), *COLS]) == 2
    assert "RuntimeError: the optimiser did not converge" in one_line_error(capsys)
