"""The short fuzz campaign of bench/fuzz.py, run in CI (the long one runs on demand)."""

from __future__ import annotations

import subprocess
import sys

from paths import PROJECT


def test_a_short_fuzz_campaign_finds_no_crash_no_slow_input_and_no_kept_personal_data() -> None:
    python = PROJECT / ".venv" / "bin" / "python"
    result = subprocess.run(
        [str(python) if python.exists() else sys.executable, "bench/fuzz.py", "--inputs", "2000"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2,000 inputs" in result.stdout and ": 0 failure(s)" in result.stdout
