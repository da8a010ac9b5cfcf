"""The gettext catalogues (locale/): every msgid of ours translated, the .mo files up to date.

msgids are French (the source language): ``locale/en`` must translate each of ours; a msgid
that is Django's or DRF's own (reused in a template, or re-worded by ``locale/fr``: see
``apps/core/admin/wording.py``) is translated by their catalogues. The .mo files are
committed (docs/architecture.md, "Languages"): they must say what their .po says.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import django
import pytest
import rest_framework
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
FIX = "make messages  (then translate the listed msgids in locale/en/LC_MESSAGES/django.po)"


def _catalogue(path: Path):
    with path.open("rb") as handle:
        return read_po(handle) if path.suffix == ".po" else read_mo(handle)


def _key(message) -> str:
    """The msgid (singular), prefixed by its context as gettext stores it ("ctx\x04msgid")."""
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return f"{message.context}\x04{msgid}" if message.context else msgid


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and "fuzzy" not in message.flags


def _library_msgids() -> set[str]:
    """The msgids of Django and DRF (English, from their French catalogues): theirs to
    translate, ours only to re-word."""
    ids: set[str] = set()
    for package in (django, rest_framework):
        for po in Path(package.__file__).parent.rglob("locale/fr/LC_MESSAGES/django.po"):
            ids |= {_key(m) for m in _catalogue(po) if m.id}
    return ids


def _reworded() -> set[str]:
    """The library msgids our French catalogue re-words (apps/core/admin/wording.py)."""
    from apps.core.admin import wording

    return set(wording.DJANGO_ADMIN_MSGIDS) | set(wording.DJANGO_ADMIN_PLURAL_MSGIDS)


def _string(message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, list | tuple) else (string,)


def _untranslated(po: Path, library: set[str]) -> list[str]:
    return sorted(
        _key(m) for m in _catalogue(po) if m.id and not _translated(m) and _key(m) not in library
    )


def test_every_msgid_of_ours_has_an_english_translation():
    library = _library_msgids() | _reworded()
    missing = _untranslated(LOCALE / "en" / "LC_MESSAGES" / "django.po", library)
    assert not missing, (
        f"{len(missing)} msgid(s) without an English translation:\n"
        + "\n".join(f"  {msgid!r}" for msgid in missing)
        + f"\nFix: {FIX}"
    )


def test_the_french_catalogue_only_rewords_django_strings():
    """French msgids need no French translation; fr translates the re-worded Django msgids,
    every one of them."""
    translated = {
        _key(m)
        for m in _catalogue(LOCALE / "fr" / "LC_MESSAGES" / "django.po")
        if m.id and _translated(m)
    }
    assert translated == _reworded()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_compiled_catalogues_match_their_po(language):
    folder = LOCALE / language / "LC_MESSAGES"
    po = {_key(m): _string(m) for m in _catalogue(folder / "django.po") if m.id and _translated(m)}
    mo = {_key(m): _string(m) for m in _catalogue(folder / "django.mo") if m.id}
    stale = sorted(set(po.items()) ^ set(mo.items()), key=str)
    assert not stale, (
        f"locale/{language}/LC_MESSAGES/django.mo is not compiled from its .po "
        f"({len(stale)} differences, e.g. {stale[:3]}). Fix: make messages"
    )


@pytest.mark.skipif(not shutil.which("xgettext"), reason="gettext (make messages) not installed")
def test_the_catalogues_hold_every_msgid_of_the_code(tmp_path):
    """``makemessages`` run on a copy: a msgid in the code but not in the .po is reported."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.mo", "node_modules")
    for name in ("apps", "backend", "bench", "locale", "manage.py"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            shutil.copy(source, copy / name)
    before = {_key(m) for m in _catalogue(copy / "locale/en/LC_MESSAGES/django.po") if m.id}
    subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "manage.py",
            "makemessages",
            "-l",
            "en",
            "--no-obsolete",
            "--add-location=file",
            "--no-wrap",
            "--ignore=bench/results",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings"},
    )
    after = {_key(m) for m in _catalogue(copy / "locale/en/LC_MESSAGES/django.po") if m.id}
    assert after - before == set(), (
        f"msgids in the code but not in the catalogues: {sorted(after - before)}\nFix: {FIX}"
    )
    assert before - after == set(), (
        f"msgids in the catalogues no longer in the code: {sorted(before - after)}\nFix: {FIX}"
    )
