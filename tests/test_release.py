"""A release is a wheel that holds everything the hub reads at run time (issue 19: `pip install`
on a server, outside any checkout): schemas, migrations, named queries, the dashboard, the
national SDK's driver source, and the `lienthong` program."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_what_the_hub_reads(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("lienthong-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, pattern in (
        ("hub/db/migrations", "*.sql"),
        ("hub/db/queries", "*.sql"),
        ("hub/schemas", "*.xsd"),
        ("hub/http/static", "*"),
        ("adapters/national_sdk", "*.java"),
    ):
        wanted = {f"{folder}/{p.name}" for p in (ROOT / folder).glob(pattern)}
        assert wanted and wanted <= names, f"{folder}: {sorted(wanted - names)} not in the wheel"
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "lienthong = tools.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
