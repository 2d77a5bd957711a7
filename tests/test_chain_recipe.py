"""build/chain/: the centre's systemd unit, its settings file and the PostgreSQL settings are what they say."""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHAIN = Path(__file__).resolve().parent.parent / "build" / "chain"


def settings(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.split(" #")[0].strip())
    return values


def test_the_centre_unit_runs_n_workers_over_the_database_in_its_settings():
    unit = settings(CHAIN / "clienteling-central.service")
    command = "central --db ${CENTRAL_DB} --host ${CENTRAL_HOST} --port 8700 --workers ${CENTRAL_WORKERS}"
    assert unit["ExecStart"] == [f"/opt/clienteling/venv/bin/clienteling {command}"]
    assert unit["EnvironmentFile"] == ["/etc/clienteling/central.env"] and unit["User"] == ["clienteling"]
    assert unit["KillMode"] == ["control-group"] and unit["Restart"] == ["on-failure"]
    assert unit["ProtectSystem"] == ["strict"] and unit["ReadWritePaths"] == ["/var/lib/clienteling-central"]
    example = settings(CHAIN / "central.env.example")
    assert set(example) == {"CENTRAL_DB", "PGPASSWORD", "CENTRAL_WORKERS", "CENTRAL_HOST"}
    assert example["CENTRAL_DB"][0].startswith("postgresql://") and int(example["CENTRAL_WORKERS"][0]) > 1


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not on this machine")
def test_systemd_accepts_the_centre_unit(tmp_path):
    text = (CHAIN / "clienteling-central.service").read_text(encoding="utf-8")
    unit = tmp_path / "clienteling-central.service"
    unit.write_text(text.replace("/opt/clienteling/venv/bin/clienteling", sys.executable), encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], check=False, capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done.stderr


def _postgres() -> str | None:
    found = shutil.which("postgres") or sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return found if isinstance(found, str) else (found[-1] if found else None)


@pytest.mark.skipif(_postgres() is None, reason="no PostgreSQL server program on this machine")
def test_every_postgresql_setting_is_one_postgresql_knows():
    known = subprocess.run(
        [_postgres(), "--describe-config"], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    names = {line.split("\t")[0] for line in known}
    ours = settings(CHAIN / "postgresql-clienteling.conf")
    assert {"max_connections", "wal_level", "archive_mode", "archive_command", "synchronous_commit"} <= set(ours)
    assert set(ours) - names == set()
    assert ours["wal_level"] == ["replica"] and ours["archive_mode"] == ["on"]
    assert "test ! -f" in ours["archive_command"][0]  # the archive never overwrites a segment
