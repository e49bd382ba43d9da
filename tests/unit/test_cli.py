"""The sijil command line, as a user calls it."""

from __future__ import annotations

from orchestration.cli import build_parser, main


def test_generate_writes_inbox_and_truth(tmp_path, capsys):
    assert main(["generate", "--persons", "300", "--seed", "1", "--out", str(tmp_path), "--as-of", "2025-06-30"]) == 0
    out = capsys.readouterr().out
    assert "Generated 300 persons" in out
    assert (tmp_path / "inbox" / "civil_registry").is_dir() and (tmp_path / "truth" / "records.parquet").exists()


def test_unknown_profile_is_reported_in_plain_words(tmp_path, capsys):
    assert main(["generate", "--profile", "atlantis", "--persons", "100", "--out", str(tmp_path)]) == 2
    assert "no profile 'atlantis' (known: iraq, jordan)" in capsys.readouterr().err


def test_commands_are_listed():
    help_text = build_parser().format_help()
    assert "generate" in help_text and "materialize" in help_text


def test_materialize_retrain_asks_the_refresh_to_train_the_linkage_again(monkeypatch):
    import orchestration.refresh as refresh

    asked = []

    class Result:
        success = True

    monkeypatch.setattr(refresh, "run_refresh", lambda select=None, retrain=False: asked.append((select, retrain)) or Result())
    monkeypatch.setattr(refresh, "print_summary", lambda result: None)
    assert main(["materialize", "--retrain"]) == 0
    assert main(["materialize"]) == 0
    assert asked == [(None, True), (None, False)]
