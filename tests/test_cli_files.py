"""The command line never loses a file and never changes an id: inputs are never overwritten,
outputs only with --overwrite, every location is checked before any work, writes are atomic."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

import crm_models.cli as cli
from crm_models.cli import main
from crm_models.datasets import load_cdnow

COLS = ["--customer-id-col", "cust", "--datetime-col", "day", "--monetary-value-col", "value", "--no-progress"]


@pytest.fixture(scope="module")
def small_log() -> pd.DataFrame:
    cd = load_cdnow(sample=True)
    keep = cd["customer_id"].drop_duplicates().head(150)
    cd = cd[cd["customer_id"].isin(keep)]
    return pd.DataFrame({"cust": cd["customer_id"].astype(str).str.zfill(5), "day": cd["timestamp"].dt.strftime("%Y-%m-%d"),
                         "value": cd["amount"]}).reset_index(drop=True)


@pytest.fixture
def tx_csv(tmp_path, small_log):
    path = tmp_path / "tx.csv"
    small_log.to_csv(path, index=False)
    return path


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("crm-models: error: ") and "\n" not in err, err
    return err


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- never over the input, over an output only when asked -----------------------------------------


@pytest.mark.parametrize("flag", [[], ["--overwrite"]])
def test_score_never_writes_over_its_input(tx_csv, capsys, flag):
    before = tx_csv.read_bytes()
    assert main(["score", str(tx_csv), *COLS, "--out", str(tx_csv), *flag]) == 2
    assert "over the input file" in error_line(capsys)
    assert tx_csv.read_bytes() == before
    assert main(["score", str(tx_csv), *COLS, "--out", str(tx_csv.parent / "s.csv"), "--report", str(tx_csv), *flag]) == 2
    assert tx_csv.read_bytes() == before and not (tx_csv.parent / "s.csv").exists()


def test_score_keeps_an_existing_output_unless_overwrite(tx_csv, tmp_path, capsys, monkeypatch):
    out = tmp_path / "scores.csv"
    out.write_text("precious\n")
    fitted = []
    monkeypatch.setattr(cli, "_read_csv", lambda *a, **k: fitted.append(1))  # no work may start
    assert main(["score", str(tx_csv), *COLS, "--out", str(out)]) == 2
    assert "exists; pass --overwrite to replace it" in error_line(capsys)
    assert out.read_text() == "precious\n" and not fitted
    monkeypatch.undo()
    assert main(["score", str(tx_csv), *COLS, "--out", str(out), "--overwrite"]) == 0
    assert pd.read_csv(out).shape[0] == 150
    assert leftovers(tmp_path) == []


def test_two_outputs_with_one_name_are_refused(tx_csv, tmp_path, capsys):
    same = tmp_path / "same.html"
    assert main(["score", str(tx_csv), *COLS, "--out", str(same), "--report", str(same)]) == 2
    assert "would both be written to" in error_line(capsys)
    assert not same.exists()


def test_every_output_location_is_checked_before_any_work(tx_csv, tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "_resolver", lambda: calls.append("resolver"))
    records = tmp_path / "records.csv"
    records.write_text("record_id,source,email\n1,web,a@x.com\n")
    cw = tmp_path / "cw.csv"
    assert main(["resolve", str(records), "--out", str(cw), "--golden", str(tmp_path / "nope" / "g.csv")]) == 2
    err = error_line(capsys)
    assert "golden records" in err and "does not exist" in err
    assert not cw.exists() and calls == []  # the crosswalk is not written, linkage never ran
    assert main(["score", str(tx_csv), *COLS, "--out", str(tmp_path / "s.csv"),
                 "--report", str(tmp_path / "missing" / "r.html")]) == 2
    assert "does not exist" in error_line(capsys)
    assert not (tmp_path / "s.csv").exists()
    folder = tmp_path / "as_a_folder.csv"
    folder.mkdir()
    assert main(["score", str(tx_csv), *COLS, "--out", str(folder)]) == 2
    assert "it is a folder" in error_line(capsys)


def test_demo_checks_its_folder_before_any_work(tmp_path, capsys, monkeypatch):
    import crm_models.datasets as datasets

    loads = []
    monkeypatch.setattr(datasets, "load_crm_world", lambda: loads.append(1))
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "scores.csv").write_text("old\n")
    assert main(["demo", "--out-dir", str(folder), "--no-progress"]) == 2
    assert "exists; pass --overwrite" in error_line(capsys)
    assert (folder / "scores.csv").read_text() == "old\n" and loads == []
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["demo", "--out-dir", str(blocker), "--no-progress"]) == 2
    assert "is a file, not a folder" in error_line(capsys)


# --- atomic writes ----------------------------------------------------------------------------------


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tx_csv, tmp_path, monkeypatch):
    out = tmp_path / "scores.csv"
    out.write_text("old scores\n")
    real = pd.DataFrame.to_csv

    def half_then_interrupt(self, path, *args, **kwargs):
        real(self.head(3), path, *args, **kwargs)  # part of the file is on disk...
        raise KeyboardInterrupt  # ...when the user presses Ctrl-C

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        main(["score", str(tx_csv), *COLS, "--out", str(out), "--overwrite"])
    assert out.read_text() == "old scores\n"
    assert leftovers(tmp_path) == []


def test_library_writers_are_atomic_and_refuse_to_overwrite(tmp_path, monkeypatch):
    from crm_models.clv import BetaGeo, simulate_beta_geo
    from crm_models.report import write_report

    model = BetaGeo().fit(simulate_beta_geo(300, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0))
    path = model.save(tmp_path / "bg.json")
    before = path.read_text()
    import crm_models._files as files

    def broken(tmp, path):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path, overwrite=True)
    assert path.read_text() == before and leftovers(tmp_path) == []
    monkeypatch.undo()
    report = tmp_path / "r.html"
    report.write_text("old")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_report(report, pd.DataFrame())
    assert report.read_text() == "old"
    assert (path.stat().st_mode & 0o777) == ((tmp_path / "r.html").stat().st_mode & 0o777)


# --- ids exactly as read ------------------------------------------------------------------------------


def test_score_keeps_ids_as_written(tx_csv, small_log, tmp_path):
    log = small_log.copy()
    first, second = log["cust"].unique()[:2]
    log.loc[log["cust"] == second, "cust"] = first.lstrip("0")  # "00004" and "4": two customers
    log.loc[log["cust"] == log["cust"].unique()[2], "cust"] = "NA"  # an id, not a missing value
    src = tmp_path / "ids.csv"
    log.to_csv(src, index=False)
    out = tmp_path / "s.csv"
    assert main(["score", str(src), *COLS, "--out", str(out)]) == 0
    ids = pd.read_csv(out, dtype=str, keep_default_na=False)["cust"]
    assert set(ids) == set(log["cust"])
    assert {first, first.lstrip("0"), "NA"} <= set(ids)
    assert out.read_text().splitlines()[1].split(",")[0] in set(log["cust"])


def test_resolve_writes_record_ids_back_exactly(tmp_path, monkeypatch):
    from crm_models.identify import resolve_exact

    monkeypatch.setattr(cli, "_resolver", lambda: resolve_exact)
    records = tmp_path / "records.csv"
    records.write_text(
        "record_id,source,email,phone\n00000,web,a@x.com,\n0,store,a@x.com,\n00017,web,b@y.org,\n17,store,,\n"
    )
    out = tmp_path / "cw.csv"
    assert main(["resolve", str(records), "--out", str(out), "--no-progress"]) == 0
    cw = pd.read_csv(out, dtype=str)
    assert sorted(cw["record_id"]) == ["0", "00000", "00017", "17"]
    joined = pd.read_csv(records, dtype={"record_id": str}).merge(cw, on="record_id", how="left")
    assert joined["customer_id"].notna().all()
    assert joined.set_index("record_id").loc["00000", "customer_id"] == joined.set_index("record_id").loc["0", "customer_id"]


# --- dates: the day-first CDNOW log is refused, and read right when the format is stated ---------------


def test_day_first_dates_are_refused_then_read_with_the_stated_format(tmp_path, capsys):
    cd = load_cdnow(sample=True)
    iso, dmy = tmp_path / "iso.csv", tmp_path / "dmy.csv"
    cd.to_csv(iso, index=False)
    cd.assign(timestamp=cd["timestamp"].dt.strftime("%d/%m/%Y")).to_csv(dmy, index=False)
    assert main(["score", str(dmy), "--out", str(tmp_path / "bad.csv"), "--no-progress"]) == 2
    err = error_line(capsys)
    assert "'timestamp'" in err and "--datetime-format '%d/%m/%Y'" in err and "first offending CSV line(s): 2" in err
    assert not (tmp_path / "bad.csv").exists()
    assert main(["score", str(iso), "--out", str(tmp_path / "a.csv"), "--no-progress"]) == 0
    assert main(["score", str(dmy), "--out", str(tmp_path / "b.csv"), "--no-progress",
                 "--datetime-format", "%d/%m/%Y"]) == 0
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert a["clv"].sum() == pytest.approx(b["clv"].sum()) == pytest.approx(67_851, abs=1)
    ambiguous = tmp_path / "amb.csv"
    pd.DataFrame({"customer_id": ["a", "b"], "timestamp": ["01/02/2024", "03/04/2024"], "amount": [1.0, 2.0]}).to_csv(
        ambiguous, index=False)
    assert main(["score", str(ambiguous), "--out", str(tmp_path / "c.csv"), "--no-progress"]) == 2
    assert "ambiguous dates" in error_line(capsys)
