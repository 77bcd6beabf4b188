"""The one progress display: quiet bars off a terminal, but every logged line kept."""
import io

from fpsolve.progress import Progress


def test_off_a_terminal_it_logs_lines_and_counts():
    out = io.StringIO()
    with Progress(3, "demo", unit="case", stream=out) as bar:
        assert not bar.enabled
        for i in range(3):
            bar.advance()
            bar.log(f"case {i} done")
        bar.advance_to(5)
        assert bar.done == 5
    assert out.getvalue().splitlines() == ["case 0 done", "case 1 done", "case 2 done"]


def test_forced_on_it_draws_a_bar():
    out = io.StringIO()
    with Progress(4, "demo", unit="case", enabled=True, stream=out) as bar:
        bar.advance(2)
        bar.note("running x")
        bar.log("a line")
    text = out.getvalue()
    assert "demo" in text and "a line" in text
